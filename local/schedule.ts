/** A running schedule. */
export interface LocalSchedule {
  /** Stops the timer and waits for the run in flight, if any. */
  stop(): Promise<void>;
}

/**
 * Runs `run` every `seconds`, like an EventBridge `rate()` schedule, but never two at once: a
 * tick that comes while the previous run is still going is skipped. The first run is one period
 * after the start. The timer does not keep the process alive. A failed run is `run`'s to report.
 *
 * @example
 * const sweeps = everySeconds(60, () => lambda.invoke(sweeperArn, scheduledEvent()));
 * await sweeps.stop();
 */
export function everySeconds(seconds: number, run: () => Promise<unknown>): LocalSchedule {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = run()
      .then(
        () => {},
        () => {},
      )
      .finally(() => {
        running = undefined;
      });
  }, seconds * 1000);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * The event EventBridge sends a function on a schedule ("Scheduled Event").
 *
 * @example
 * scheduledEvent('arn:aws:events:us-east-1:000000000000:rule/dynamo-dlm-sweeper', 'us-east-1', '000000000000');
 */
export function scheduledEvent(ruleArn: string, region: string, account: string) {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [ruleArn],
    detail: {},
  };
}
