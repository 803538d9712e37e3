// A credence node: the chain plus admission (the door), signature verification in worker
// threads, ordering (hosting the solo orderer, or following the orderer host's block
// stream), waiting for commits, and a feed of committed blocks for the API. Everything it
// depends on is passed in or chosen here, at wiring time.

import type { SubmitResult } from '../codec/api.js';
import type { Block, TxResult } from '../codec/block.js';
import { decodeBlock, decodeResult } from '../codec/block.js';
import { type DecodedTx, decodeTx } from '../codec/tx.js';
import { orgOfKey, readPolicies } from '../contracts/members.js';
import type { CryptoSuite, Signer } from '../crypto/suite.js';
import { VerifyPool } from '../crypto/verifyPool.js';
import { type Genesis, genesisHash } from '../ledger/genesis.js';
import { SoloOrderer } from '../ordering/solo.js';
import type { ProposedBlock } from '../ordering/orderer.js';
import { CredenceClient } from '../sdk/client.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes, isCredenceError } from '../util/errors.js';
import { Chain, type CommittedBlock } from './chain.js';
import type { NodeConfig } from './config.js';
import { EtcdMember } from './etcdMember.js';
import { type Logger, silentLogger } from './log.js';
import { NodeMetrics } from './metrics.js';
import type { NodeHooks } from './nodeHooks.js';

export interface NodeOptions {
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly suite: CryptoSuite;
  /** This node's member key: authenticates it to peers. */
  readonly signer: Signer;
  readonly logger?: Logger;
  /** Wall clock for admission and ordering (injectable for tests). */
  readonly now?: () => number;
  readonly processMetrics?: boolean;
  /** This node's place among the organizations (staggers etcd cut markers). */
  readonly rank?: number;
}

export type CommitListener = (c: CommittedBlock) => void;

interface Waiter {
  resolve: (r: SubmitResult) => void;
}

export class CredenceNode {
  readonly chain: Chain;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly genesisHashHex: string;
  private readonly pool: VerifyPool;
  private readonly now: () => number;
  private orderer: SoloOrderer | undefined;
  private leader: CredenceClient | undefined;
  private readonly pending = new Set<string>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly listeners = new Set<CommitListener>();
  private readonly problems = new Map<string, string>();
  private followAbort: AbortController | undefined;
  private stopped = false;
  /** Set when ordering runs on etcd: checkpoints, block sync, compaction. */
  network: EtcdMember | undefined;

  constructor(private readonly opts: NodeOptions) {
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.metrics = new NodeMetrics(opts.processMetrics ?? true);
    this.chain = Chain.open(
      `${opts.config.dataDir}/chain.db`,
      opts.genesis,
      opts.suite,
      (e, where) => this.log.error('contract fault', { where, error: String(e) }),
      true,
    );
    this.genesisHashHex = toHex(genesisHash(this.chain.hash, opts.genesis));
    this.pool = new VerifyPool(opts.suite.name, opts.config.verifyThreads === undefined ? {} : { threads: opts.config.verifyThreads });
    this.metrics.height.set(this.chain.height());
  }

  get config(): NodeConfig {
    return this.opts.config;
  }

  /** This node's member key (authenticates it to peers). */
  get signer(): Signer {
    return this.opts.signer;
  }

  get suite(): CryptoSuite {
    return this.opts.suite;
  }

  get role(): 'orderer' | 'follower' {
    return this.opts.config.ordering.kind === 'follow' ? 'follower' : 'orderer';
  }

  async start(): Promise<void> {
    const ord = this.opts.config.ordering;
    if (ord.kind === 'solo') {
      const head = this.chain.head();
      this.orderer = new SoloOrderer({
        params: this.opts.genesis.ordering,
        state: { nextHeight: head.header.height + 1, lastTime: head.header.time },
        now: this.now,
      });
      await this.orderer.start((b) => this.commitProposed(b));
    } else if (ord.kind === 'etcd') {
      const api = this.opts.config.api;
      this.network = new EtcdMember(this.hooks(), ord, ord.url ?? `http://${api.host}:${api.port}`, this.opts.rank ?? 0);
      await this.network.start();
    } else {
      this.leader = new CredenceClient({ url: ord.leader, suite: this.opts.suite, signer: this.opts.signer, chainId: this.opts.genesis.chainId });
      this.followAbort = new AbortController();
      void this.follow(this.followAbort.signal);
    }
    this.log.info('node started', { role: this.role, height: this.chain.height(), chainId: this.opts.genesis.chainId });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.followAbort?.abort();
    await this.orderer?.stop();
    await this.network?.stop();
    for (const [id, ws] of this.waiters) for (const w of ws) w.resolve({ id, status: 'pending' });
    this.waiters.clear();
    await this.pool.close();
    await this.chain.close();
  }

  /** Health: ok, or the reasons it is not. */
  health(): { status: 'ok' | 'degraded' | 'halted'; orgId: string; height: number; reasons: string[] } {
    const reasons = [...this.problems.values()];
    const halted = this.problems.has('halted');
    const status = halted ? 'halted' : reasons.length > 0 ? 'degraded' : 'ok';
    return { status, orgId: this.config.orgId, height: this.chain.height(), reasons };
  }

  onCommit(fn: CommitListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  isPending(idHex: string): boolean {
    return this.pending.has(idHex);
  }

  /** Is this raw public key (hex) a key of a current member organization? */
  isMemberKey(keyHex: string): boolean {
    return orgOfKey(this.chain.read, keyHex) !== undefined;
  }

  // ---- admission -------------------------------------------------------------------------

  /** Check a transaction at the door; throws a coded error if it must not be ordered. */
  private screen(bytes: Uint8Array, now: number, ttlMaxMs: number): DecodedTx {
    const d = decodeTx(this.chain.hash, bytes);
    if (d.tx.chainId !== this.opts.genesis.chainId) {
      throw new CredenceError(Codes.WRONG_CHAIN, `transaction is for chain "${d.tx.chainId.slice(0, 64)}", this is "${this.opts.genesis.chainId}"`);
    }
    if (d.tx.expiresAt < now) throw new CredenceError(Codes.TX_EXPIRED, 'transaction has expired; sign it again with a later expiry');
    if (d.tx.expiresAt - now > ttlMaxMs) {
      throw new CredenceError(Codes.TX_EXPIRY_TOO_FAR, `expiry is more than ${ttlMaxMs} ms ahead; use a shorter validity`);
    }
    if (this.pending.has(d.idHex) || this.chain.store.hasTx(d.id)) {
      throw new CredenceError(Codes.TX_REPLAYED, 'this transaction was already submitted');
    }
    if (d.tx.signer.byteLength !== this.opts.suite.publicKeyBytes || !this.isMemberKey(d.signerHex)) {
      throw new CredenceError(Codes.FORBIDDEN, 'the signer is not a key of a member organization');
    }
    return d;
  }

  /**
   * Admit a batch of signed transactions: each is screened and its signature verified in
   * the worker pool; good ones go to ordering. One result per input, in order.
   */
  async admit(txs: readonly Uint8Array[]): Promise<SubmitResult[]> {
    if (this.problems.has('halted')) throw new CredenceError(Codes.UNAVAILABLE, 'node has halted; see /health');
    const now = this.now();
    const ttlMaxMs = readPolicies(this.chain.read).txTtlMaxMs;
    const results: SubmitResult[] = new Array(txs.length);
    const candidates: { i: number; d: DecodedTx }[] = [];
    txs.forEach((bytes, i) => {
      try {
        // Duplicates inside one batch are caught after signature checks (pending set), so a
        // forged copy cannot shadow the genuine transaction.
        candidates.push({ i, d: this.screen(bytes, now, ttlMaxMs) });
      } catch (e) {
        results[i] = this.rejection(null, e);
      }
    });
    if (this.pending.size + candidates.length > this.opts.config.limits.poolTxMax) {
      for (const c of candidates) results[c.i] = this.rejection(c.d.idHex, new CredenceError(Codes.POOL_FULL, 'too many transactions pending; retry shortly'));
      return results;
    }
    const good = await this.verify(candidates, results);
    if (good.length > 0) await this.order(good, results);
    return results;
  }

  private async verify(candidates: { i: number; d: DecodedTx }[], results: SubmitResult[]): Promise<{ i: number; d: DecodedTx }[]> {
    const timer = this.metrics.verifySeconds.startTimer();
    const ok = await this.pool.verifyBatch(candidates.map(({ d }) => ({ publicKey: d.tx.signer, digest: d.id, signature: d.tx.signature })));
    timer();
    const good: { i: number; d: DecodedTx }[] = [];
    candidates.forEach((c, k) => {
      if (!ok[k]) results[c.i] = this.rejection(c.d.idHex, new CredenceError(Codes.BAD_SIGNATURE, 'signature does not verify for the signer key'));
      else if (this.pending.has(c.d.idHex))
        results[c.i] = this.rejection(c.d.idHex, new CredenceError(Codes.TX_REPLAYED, 'this transaction was already submitted'));
      else {
        this.pending.add(c.d.idHex);
        good.push(c);
      }
    });
    this.metrics.pending.set(this.pending.size);
    return good;
  }

  private async order(good: { i: number; d: DecodedTx }[], results: SubmitResult[]): Promise<void> {
    try {
      if (this.orderer !== undefined || this.network !== undefined) {
        await (this.orderer ?? this.network)?.submit(good.map((g) => g.d));
        for (const g of good) results[g.i] = { id: g.d.idHex, status: 'accepted' };
        return;
      }
      const forwarded = await this.leaderClient().submit(good.map((g) => g.d.bytes));
      good.forEach((g, k) => {
        const r = forwarded[k];
        results[g.i] = r ?? { id: g.d.idHex, status: 'rejected', code: Codes.UNAVAILABLE, message: 'orderer gave no answer' };
        if (r?.status !== 'accepted') this.pending.delete(g.d.idHex);
      });
    } catch (e) {
      for (const g of good) {
        this.pending.delete(g.d.idHex);
        results[g.i] = this.rejection(g.d.idHex, e);
      }
    }
  }

  private leaderClient(): CredenceClient {
    if (this.leader === undefined) throw new CredenceError(Codes.UNAVAILABLE, 'node is not started');
    return this.leader;
  }

  private rejection(id: string | null, e: unknown): SubmitResult {
    const err = isCredenceError(e) ? e : new CredenceError('INTERNAL', 'internal error');
    if (!isCredenceError(e)) this.log.error('admission failed', { error: String(e) });
    this.metrics.rejected.inc({ code: err.code });
    return { id, status: 'rejected', code: err.code, message: err.message };
  }

  /** Wait for accepted transactions to commit; unresolved ones come back 'pending'. */
  async waitFor(results: SubmitResult[], timeoutMs: number): Promise<SubmitResult[]> {
    const waits = results.map((r) => {
      if (r.status !== 'accepted' || r.id === null) return Promise.resolve(r);
      const id = r.id;
      if (!this.pending.has(id)) {
        // Admitted and no longer pending: already committed (or lost to a restart).
        const loc = this.chain.store.tx(Buffer.from(id, 'hex'));
        if (loc !== undefined) return Promise.resolve(this.committedResult(id, loc.height, loc.index));
      }
      return new Promise<SubmitResult>((resolve) => {
        const list = this.waiters.get(id) ?? [];
        list.push({ resolve });
        this.waiters.set(id, list);
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    const all = Promise.all(waits);
    const done = await Promise.race([all, timeout.then(() => undefined)]);
    clearTimeout(timer);
    if (done !== undefined) return done;
    for (const r of results) if (r.id !== null) this.waiters.delete(r.id);
    const settled = await Promise.race([all, Promise.resolve(undefined)]);
    return settled ?? results.map((r) => (r.status === 'accepted' ? { ...r, status: 'pending' as const } : r));
  }

  private committedResult(id: string, height: number, index: number): SubmitResult {
    const raw = this.chain.store.results(height)?.[index];
    const res = raw === undefined ? undefined : decodeResultSafe(raw);
    return { id, status: 'committed', height, index, code: res?.code ?? 'OK', value: res?.value ?? null, events: [...(res?.events ?? [])] };
  }

  // ---- commit ----------------------------------------------------------------------------

  private commitProposed(b: ProposedBlock): void {
    const timer = this.metrics.commitSeconds.startTimer();
    try {
      this.afterCommit(this.chain.commitProposed(b.height, b.time, b.txs));
    } catch (e) {
      this.halt(e);
      throw e;
    } finally {
      timer();
    }
  }

  private halt(e: unknown): void {
    const message = isCredenceError(e) ? `${e.code}: ${e.message}` : String(e);
    this.problems.set('halted', `halted: ${message}`);
    this.log.error('node halted: it stopped writing blocks', { error: message });
    void this.network?.haltOrdering();
  }

  /** The narrow view of this node that the network-level parts (etcdMember.ts) use. */
  private hooks(): NodeHooks {
    return {
      chain: this.chain,
      genesis: this.opts.genesis,
      suite: this.opts.suite,
      signer: this.opts.signer,
      log: this.log,
      orgId: this.opts.config.orgId,
      dataDir: this.opts.config.dataDir,
      commit: (b) => this.commitProposed(b),
      applyBlock: (bytes) => this.applyFromLeader(bytes),
      verify: (txs) => this.pool.verifyBatch(txs.map((d) => ({ publicKey: d.tx.signer, digest: d.id, signature: d.tx.signature }))),
      isPending: (id) => this.pending.has(id),
      halt: (reason) => this.halt(new CredenceError(Codes.CORRUPT, reason)),
      isHalted: () => this.problems.has('halted') || this.stopped,
      setProblem: (key, message) => (message === undefined ? this.problems.delete(key) : this.problems.set(key, message)),
      onCommit: (fn) => this.onCommit(fn),
    };
  }

  private afterCommit(c: CommittedBlock): void {
    const h = c.head.header;
    this.metrics.height.set(h.height);
    this.metrics.blocks.inc();
    const byCode = new Map<string, number>();
    c.txs.forEach((t, i) => {
      const res = c.results[i] as TxResult;
      byCode.set(res.code, (byCode.get(res.code) ?? 0) + 1);
      this.pending.delete(t.idHex);
      const ws = this.waiters.get(t.idHex);
      if (ws === undefined) return;
      this.waiters.delete(t.idHex);
      const out: SubmitResult = { id: t.idHex, status: 'committed', height: h.height, index: i, code: res.code, value: res.value, events: [...res.events] };
      for (const w of ws) w.resolve(out);
    });
    for (const [code, n] of byCode) this.metrics.txs.inc({ code }, n);
    this.metrics.pending.set(this.pending.size);
    for (const fn of this.listeners) {
      try {
        fn(c);
      } catch (e) {
        this.log.error('commit listener failed', { error: String(e) });
      }
    }
  }

  // ---- following -------------------------------------------------------------------------

  private async follow(signal: AbortSignal): Promise<void> {
    let backoffMs = 100;
    while (!signal.aborted && !this.stopped && !this.problems.has('halted')) {
      try {
        for await (const bytes of this.leaderClient().streamBlocks(this.chain.height() + 1, signal)) {
          await this.applyFromLeader(bytes);
          this.problems.delete('leader');
          backoffMs = 100;
        }
      } catch (e) {
        if (signal.aborted || this.stopped) return;
        if (isCredenceError(e) && (e.code === Codes.CORRUPT || e.code === Codes.BAD_SIGNATURE || e.code === Codes.WRONG_CHAIN)) {
          this.halt(e);
          return;
        }
        this.problems.set('leader', `not receiving blocks from the orderer: ${isCredenceError(e) ? e.code : 'error'}`);
        this.log.warn('block stream interrupted; retrying', { error: isCredenceError(e) ? e.code : String(e), backoffMs });
      }
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 2000);
    }
  }

  /** Verify and apply one block received from the orderer host. */
  async applyFromLeader(bytes: Uint8Array): Promise<void> {
    const block: Block = decodeBlock(bytes);
    if (block.header.height <= this.chain.height()) return;
    const txs = block.txs.map((t) => decodeTx(this.chain.hash, t));
    const ok = await this.pool.verifyBatch(txs.map((d) => ({ publicKey: d.tx.signer, digest: d.id, signature: d.tx.signature })));
    const bad = ok.findIndex((v) => !v);
    if (bad >= 0)
      throw new CredenceError(Codes.BAD_SIGNATURE, `block ${block.header.height} holds a transaction with a bad signature`, {
        height: block.header.height,
        index: bad,
      });
    const timer = this.metrics.commitSeconds.startTimer();
    try {
      this.afterCommit(this.chain.applyReceived(block, txs));
    } finally {
      timer();
    }
  }
}

function decodeResultSafe(raw: Uint8Array): TxResult | undefined {
  try {
    return decodeResult(raw);
  } catch {
    return undefined;
  }
}
