import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { SlotHold } from '../lease.js';
import { attribute, requestAttribute } from '../table.js';
import { dueShardOf, permitsOf, type RequestState, type StoredRequest } from './request.js';

/** A grant's slots in their stored form (`granted_slots`). */
export function toSlotsAttribute(slots: SlotHold[]): AttributeValue {
  return {
    L: slots.map((hold) => ({
      M: { slot: { N: String(hold.concurrencyId) }, token: { N: String(hold.fencingToken) } },
    })),
  };
}

function fromSlotsAttribute(value: AttributeValue | undefined): SlotHold[] | undefined {
  return value?.L?.map((entry) => ({
    concurrencyId: Number(entry.M?.slot?.N),
    fencingToken: Number(entry.M?.token?.N),
  }));
}

type Item = Record<string, AttributeValue>;

/** The stored form of a new waiting request. */
export function toRequestItem(request: StoredRequest): Item {
  return {
    [attribute.resourceId]: { S: request.resourceId },
    [attribute.concurrencyId]: { N: String(request.requestKey) },
    [requestAttribute.releaseCode]: { S: request.releaseCode },
    [requestAttribute.state]: { S: request.state },
    [requestAttribute.taskToken]: { S: request.taskToken },
    ...(request.dueMs === undefined
      ? {}
      : {
          [requestAttribute.dueShard]: { S: dueShardOf(request.releaseCode) },
          [requestAttribute.dueMs]: { N: String(request.dueMs) },
        }),
    [requestAttribute.arrivedMs]: { N: String(request.arrivedMs) },
    ...(request.queueKey === undefined
      ? {}
      : { [requestAttribute.queueKey]: { N: String(request.queueKey) } }),
    // Infinity has no DynamoDB form; no attribute means "no deadline of our own".
    ...(Number.isFinite(request.waitUntilMs)
      ? { [requestAttribute.waitUntilMs]: { N: String(request.waitUntilMs) } }
      : {}),
    [requestAttribute.leaseMs]: { N: String(request.leaseMs) },
    [requestAttribute.concurrency]: { N: String(request.concurrency) },
    ...(request.owner === undefined ? {} : { [requestAttribute.owner]: { S: request.owner } }),
    ...(request.heartbeatSeconds === undefined
      ? {}
      : { [requestAttribute.heartbeatSeconds]: { N: String(request.heartbeatSeconds) } }),
    ...(request.retryChain === undefined ? {} : { [requestAttribute.retryChain]: { S: request.retryChain } }),
    ...(permitsOf(request) === 1 ? {} : { [requestAttribute.permits]: { N: String(request.permits) } }),
    ...(request.rate === undefined
      ? {}
      : {
          [requestAttribute.rateIntervalUs]: { N: String(request.rate.intervalUs) },
          [requestAttribute.rateToleranceUs]: { N: String(request.rate.toleranceUs) },
        }),
  };
}

/** Reads a stored request back. */
export function fromRequestItem(item: Item): StoredRequest {
  const number = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name]?.N));
  const grantedSlot = number(requestAttribute.grantedSlot);
  const owner = item[requestAttribute.owner]?.S;
  const retryChain = item[requestAttribute.retryChain]?.S;
  const dueMs = number(requestAttribute.dueMs);
  const queueKey = number(requestAttribute.queueKey);
  const heartbeatSeconds = number(requestAttribute.heartbeatSeconds);
  const rateIntervalUs = number(requestAttribute.rateIntervalUs);
  const permits = number(requestAttribute.permits);
  const grantedSlots = fromSlotsAttribute(item[requestAttribute.grantedSlots]);
  return {
    resourceId: item[attribute.resourceId]?.S ?? '',
    requestKey: Number(item[attribute.concurrencyId]?.N),
    releaseCode: item[requestAttribute.releaseCode]?.S ?? '',
    // Items written before the lifecycle had a state: granted when they name a slot.
    state: (item[requestAttribute.state]?.S ??
      (grantedSlot === undefined ? 'waiting' : 'granted')) as RequestState,
    taskToken: item[requestAttribute.taskToken]?.S ?? '',
    arrivedMs: number(requestAttribute.arrivedMs) ?? 0,
    waitUntilMs: number(requestAttribute.waitUntilMs) ?? Number.POSITIVE_INFINITY,
    leaseMs: number(requestAttribute.leaseMs) ?? 0,
    concurrency: number(requestAttribute.concurrency) ?? 1,
    ...(owner === undefined ? {} : { owner }),
    ...(retryChain === undefined ? {} : { retryChain }),
    ...(dueMs === undefined ? {} : { dueMs }),
    ...(queueKey === undefined ? {} : { queueKey }),
    ...(heartbeatSeconds === undefined ? {} : { heartbeatSeconds }),
    ...(permits === undefined ? {} : { permits }),
    ...(rateIntervalUs === undefined
      ? {}
      : { rate: { intervalUs: rateIntervalUs, toleranceUs: number(requestAttribute.rateToleranceUs) ?? 0 } }),
    ...(grantedSlot === undefined
      ? {}
      : {
          granted: {
            concurrencyId: grantedSlot,
            expiresAtMs: number(requestAttribute.grantedUntilMs) ?? 0,
            fencingToken: number(requestAttribute.grantedFencingToken) ?? 0,
            ...(grantedSlots === undefined ? {} : { slots: grantedSlots }),
          },
        }),
  };
}
