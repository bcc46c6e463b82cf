import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { FifoGroups } from '../../../local/lambda/fifo-groups.js';

const message = (id: string, group = id[0] ?? ''): Message => ({
  MessageId: id,
  ReceiptHandle: `${id}-handle`,
  Attributes: { MessageGroupId: group },
});
const ids = (batch: Message[] | undefined) => batch?.map((m) => m.MessageId);

describe('FifoGroups', () => {
  const t0 = 1_000_000;

  it('hands out one batch per group at a time, oldest first, within the batch size', () => {
    const groups = new FifoGroups({ batchSize: 3, visibilityTimeoutMs: 30_000 });
    groups.add(
      ['a1', 'b1', 'a2', 'a3', 'a4'].map((id) => message(id)),
      t0,
    );
    const first = groups.takeReady(t0);
    expect(ids(first)).toEqual(['a1', 'a2', 'a3']);
    expect(ids(groups.takeReady(t0))).toEqual(['b1']);
    expect(groups.takeReady(t0)).toBeUndefined(); // a4 waits: group a is busy
    groups.finish(first ?? [], new Set(['a1', 'a2', 'a3']));
    expect(ids(groups.takeReady(t0))).toEqual(['a4']);
  });

  it('blocks a group behind a failed message until the queue hands it out again', () => {
    const groups = new FifoGroups({ batchSize: 10, visibilityTimeoutMs: 1000 });
    groups.add([message('a1'), message('a2')], t0);
    const batch = groups.takeReady(t0) ?? [];
    groups.add([message('a3')], t0 + 10); // the emulator ignores the group lock
    groups.finish(batch, new Set(['a1']));
    expect(groups.takeReady(t0 + 20)).toBeUndefined();
    expect(groups.held).toBe(2);
    groups.add([{ ...message('a2'), ReceiptHandle: 'fresh' }], t0 + 1000);
    const retry = groups.takeReady(t0 + 1000);
    expect(ids(retry)).toEqual(['a2']); // a3 was received before a2 came back: a2 still goes first
    expect(retry?.[0]?.ReceiptHandle).toBe('fresh');
  });

  it('does not start a message whose visibility timeout is about to end, nor anything after it', () => {
    const groups = new FifoGroups({ batchSize: 10, visibilityTimeoutMs: 1000 });
    groups.add([message('a1'), message('b1')], t0);
    expect(groups.takeReady(t0 + 800)).toBeUndefined();
    expect(groups.msUntilChange(t0 + 800)).toBe(1200);
    groups.add([message('b1')], t0 + 1000);
    expect(ids(groups.takeReady(t0 + 1000))).toEqual(['b1']);
  });

  it('drops a blocking message that does not come back (moved to the dead-letter queue)', () => {
    const groups = new FifoGroups({ batchSize: 10, visibilityTimeoutMs: 1000 });
    groups.add([message('a1')], t0);
    const batch = groups.takeReady(t0) ?? [];
    groups.add([message('a2')], t0 + 500);
    groups.finish(batch, new Set());
    expect(groups.takeReady(t0 + 1500)).toBeUndefined();
    groups.add([message('a2')], t0 + 1600); // a2's own visibility timeout ended: handed out again
    expect(groups.takeReady(t0 + 1900)).toBeUndefined();
    expect(ids(groups.takeReady(t0 + 2000))).toEqual(['a2']);
  });
});
