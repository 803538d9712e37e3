// Prometheus metrics for one node. Each node owns its own registry (several nodes may live
// in one test process), exposed at /metrics by the API.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class NodeMetrics {
  readonly registry = new Registry();
  readonly height = new Gauge({ name: 'credence_block_height', help: 'Height of the last committed block', registers: [this.registry] });
  readonly blocks = new Counter({ name: 'credence_blocks_committed_total', help: 'Blocks committed', registers: [this.registry] });
  readonly txs = new Counter({
    name: 'credence_txs_committed_total',
    help: 'Transactions committed, by result code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'credence_txs_rejected_total',
    help: 'Transactions refused at admission, by error code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly pending = new Gauge({ name: 'credence_txs_pending', help: 'Admitted transactions not yet committed', registers: [this.registry] });
  readonly commitSeconds = new Histogram({
    name: 'credence_block_commit_seconds',
    help: 'Time to execute and commit one block',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly verifySeconds = new Histogram({
    name: 'credence_signature_batch_seconds',
    help: 'Time to verify one batch of signatures in the worker pool',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly peers = new Gauge({ name: 'credence_followers', help: 'Block stream subscribers', registers: [this.registry] });

  constructor(withProcessMetrics = true) {
    if (withProcessMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'credence_' });
  }
}
