/**
 * The pool's web dashboard (issue 8): an operator view (workers online and unhealthy, epochs and
 * their settlement progress, revenue, alert deliveries, dead letters) and a participant view (its workers,
 * claimed and verified tokens and reputation over epochs, rewards, payouts, proofs, a wallet link
 * to claim a pending reward, tax export),
 * drawn from the read API (`/api/v1/...`). Live: the page follows GET /api/v1/events (Server-Sent
 * Events; the participant view only its participant's events) and redraws after each burst of
 * events; without the stream it falls back to redrawing every 5 s. Charts: uPlot. Amounts arrive
 * as decimal strings of nanoTON and are shown in TON.
 */
import uPlot from 'uplot';
import { PUBLIC_EVENT_TYPES } from '../read-api/publicEvents.ts';

/** Redraw period without the event stream, and the longest a view goes unredrawn with it. */
const REFRESH_MS = 5000;
const STREAM_REFRESH_MS = 60_000;
/** Events that arrive within this time of each other are one redraw. */
const BURST_MS = 500;
const view = document.getElementById('view')!;
const live = document.getElementById('live')!;
let timer: number | undefined;
let charts: uPlot[] = [];
let stream: { url: string; source: EventSource; open: boolean } | null = null;
let burst: number | undefined;

/**
 * Follows the public events of `url` (GET /api/v1/events[?participant=]): each burst of events
 * redraws the view. The browser reconnects by itself, resuming after the last event id it saw.
 */
function follow(url: string): void {
  if (stream?.url === url) return;
  stream?.source.close();
  const source = new EventSource(url);
  const current = { url, source, open: false };
  stream = current;
  source.onopen = () => {
    current.open = true;
  };
  source.onerror = () => {
    current.open = false;
  };
  // each event comes with its type as the SSE event name
  for (const type of PUBLIC_EVENT_TYPES) source.addEventListener(type, redrawSoon);
}

function redrawSoon(): void {
  clearTimeout(burst);
  burst = window.setTimeout(() => void render(), BURST_MS);
}

/** GET a read-API path as JSON; throws with the API's `{ error, message }` when it answers non-2xx. */
async function get<T>(path: string, headers?: Record<string, string>): Promise<T> {
  const res = await fetch(path, { headers });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${path}: ${res.status} ${(body as { message?: string }).message ?? ''}`);
  return body as T;
}

/** nanoTON (decimal string) as TON with up to 4 decimals. */
function ton(nano: string | null | undefined): string {
  if (nano == null) return '—';
  const n = BigInt(nano);
  const whole = n / 1_000_000_000n;
  const frac = (n % 1_000_000_000n).toString().padStart(9, '0').slice(0, 4).replace(/0+$/, '');
  return `${whole}${frac ? `.${frac}` : ''} TON`;
}

const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function table(id: string, head: string[], rows: unknown[][], numeric: number[] = []): string {
  const th = head.map((h, i) => `<th${numeric.includes(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`).join('');
  return `<table id="${id}"><thead><tr>${th}</tr></thead><tbody>${tr || `<tr><td colspan="${head.length}">none yet</td></tr>`}</tbody></table>`;
}

/** Draws a bar/line chart of `series` over `x` (epoch ids) into the element `#id`. */
function chart(id: string, title: string, x: number[], series: { label: string; values: number[]; stroke: string }[]): void {
  const el = document.getElementById(id);
  if (!el || !x.length) return;
  const width = Math.max(300, el.clientWidth || 600);
  charts.push(
    new uPlot(
      { title, width, height: 220, scales: { x: { time: false } }, axes: [{ label: 'epoch', incrs: [1, 2, 5, 10, 20, 50, 100] }, { size: 90 }], series: [{ label: 'epoch' }, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, points: { show: true } }))] },
      [x, ...series.map((s) => s.values)],
      el,
    ),
  );
}

interface PoolSummary { operatorFeeBps: number | null; participants: { registered: number } }
interface Worker { id: string; participant: string; status: string; healthy: boolean | null; healthReasons: string[]; lastSeenAt: string | null; uptimeSeconds: number; restarts: number; anomalous: boolean }
interface Epoch { id: number; status: string; revenueNanoton: string; rewardsNanoton: string | null; operatorFeeNanoton: string | null; leafCount: number | null; payoutsConfirmed: number; batchesPlanned: number | null; batchesConfirmed: number; settledAt: string | null }

async function operatorView(): Promise<{ html: string; epochs: Epoch[] }> {
  const [{ workers }, { epochs }, pool] = await Promise.all([get<{ workers: Worker[] }>('/api/v1/workers'), get<{ epochs: Epoch[] }>('/api/v1/epochs'), get<PoolSummary>('/api/v1/pool')]);
  const online = workers.filter((w) => w.status === 'online').length;
  const unhealthy = workers.filter((w) => w.healthy === false).length;
  const settled = epochs.filter((e) => e.status === 'settled');
  const revenue = epochs.reduce((s, e) => s + BigInt(e.revenueNanoton ?? '0'), 0n);
  const token = sessionStorage.getItem('operatorToken');
  let alerts = '<p>Enter the operator token to see alert deliveries.</p>';
  let letters = '<p>Enter the operator token to see dead letters.</p>';
  if (token) {
    const auth = { authorization: `Bearer ${token}` };
    const [d, l] = await Promise.allSettled([
      get<{ deliveries: { ruleId: string; eventType: string; status: string; attempts: number }[] }>('/api/v1/alerts/deliveries', auth),
      get<{ total: number; bySource: Record<string, number>; letters: { sequence: number; source: string; reason: string; at: string | null }[] }>('/api/v1/dead-letters?limit=20', auth),
    ]);
    alerts = d.status === 'fulfilled'
      ? table('alert-deliveries', ['rule', 'event', 'status', 'attempts'], d.value.deliveries.slice(0, 20).map((a) => [esc(a.ruleId), esc(a.eventType), esc(a.status), a.attempts]), [3])
      : `<p class="error">${esc((d.reason as Error).message)}</p>`;
    letters = l.status === 'fulfilled'
      ? `<p id="dead-letter-count">${l.value.total} dead letters${Object.keys(l.value.bySource).length ? `: ${Object.entries(l.value.bySource).map(([k, n]) => `${esc(k)} ${n}`).join(', ')}` : ''}</p>`
        + table('dead-letters', ['sequence', 'source', 'reason', 'at'], l.value.letters.map((x) => [x.sequence, esc(x.source), esc(x.reason), esc(x.at ?? '—')]), [0])
      : `<p class="error">${esc((l.reason as Error).message)}</p>`;
  }
  const html = `
    <div class="cards">
      <div class="card" id="card-online">workers online<b>${online} / ${workers.length}</b></div>
      <div class="card" id="card-unhealthy">unhealthy<b class="${unhealthy ? 'bad' : 'ok'}">${unhealthy}</b></div>
      <div class="card" id="card-epochs">epochs settled<b>${settled.length} / ${epochs.length}</b></div>
      <div class="card" id="card-revenue">revenue to date<b>${ton(String(revenue))}</b></div>
      <div class="card" id="card-participants">participants<b>${pool.participants.registered}</b></div>
      <div class="card" id="card-fee">operator fee<b>${pool.operatorFeeBps === null ? '—' : `${pool.operatorFeeBps / 100} %`}</b></div>
    </div>
    <section><h2>Revenue per epoch</h2><div id="chart-revenue"></div></section>
    <section><h2>Epochs</h2>${table('epochs', ['epoch', 'status', 'revenue', 'rewards', 'fee', 'payouts confirmed', 'batches'], epochs.map((e) => [e.id, esc(e.status), ton(e.revenueNanoton), ton(e.rewardsNanoton), ton(e.operatorFeeNanoton), `${e.payoutsConfirmed} / ${e.leafCount ?? '—'}`, `${e.batchesConfirmed} / ${e.batchesPlanned ?? '—'}`]), [0, 2, 3, 4])}</section>
    <section><h2>Workers</h2>${table('workers', ['worker', 'participant', 'status', 'health', 'last seen', 'uptime', 'restarts'], workers.map((w) => [esc(w.id), `<a href="#/participant/${esc(w.participant)}">${esc(w.participant.slice(0, 10))}…</a>`, `<span class="${w.status === 'online' ? 'ok' : 'bad'}">${esc(w.status)}</span>`, w.healthy === false ? `<span class="bad" title="${esc(w.healthReasons.join('; '))}">unhealthy</span>` : w.anomalous ? '<span class="bad">anomalous</span>' : '<span class="ok">healthy</span>', esc(w.lastSeenAt ?? '—'), `${Math.round(w.uptimeSeconds)} s`, w.restarts]), [5, 6])}</section>
    <section><h2>Alert deliveries</h2>
      <form id="token-form"><input id="token" type="password" placeholder="operator token" autocomplete="off"><button>Use</button></form>
      ${alerts}
    </section>
    <section><h2>Dead letters</h2>${letters}</section>`;
  return { html, epochs };
}

function afterOperator(epochs: Epoch[]): void {
  const asc = [...epochs].sort((a, b) => a.id - b.id);
  chart('chart-revenue', 'revenue and rewards (TON)', asc.map((e) => e.id), [
    { label: 'revenue', values: asc.map((e) => Number(BigInt(e.revenueNanoton ?? '0')) / 1e9), stroke: '#4da3ff' },
    { label: 'rewards', values: asc.map((e) => Number(BigInt(e.rewardsNanoton ?? '0')) / 1e9), stroke: '#7bd88f' },
  ]);
  document.getElementById('token-form')?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem('operatorToken', (document.getElementById('token') as HTMLInputElement).value);
    void render();
  });
}

interface Participant {
  address: string;
  reputation: number;
  reputationHistory: { epochId: number; after: number }[];
  workers: Worker[];
  contributions: { epochId: number; claimedTokens: string; verifiedTokens: string; creditedTokens: string | null; tasks: number; successRate: number | null; uptimeSeconds: number }[];
  rewards: { earnedNanoton: string; paidNanoton: string; pendingNanoton: string };
}
interface Payout { epochId: number; index: number; amountNanoton: string; status: string; txHash: string | null; paidAt: string | null }

async function participantView(address: string | null): Promise<{ html: string; data?: Participant }> {
  const form = `<section><form id="address-form"><input id="address" placeholder="your TON address (EQ…, UQ… or 0:…)" value="${esc(address ?? '')}"><button>Show</button></form></section>`;
  if (!address) return { html: form };
  let p: Participant;
  try {
    p = await get<Participant>(`/api/v1/participants/${encodeURIComponent(address)}`);
  } catch (err) {
    return { html: `${form}<section><p class="error" id="participant-error">${esc((err as Error).message)}</p></section>` };
  }
  const { payouts } = await get<{ payouts: Payout[] }>(`/api/v1/payouts?address=${encodeURIComponent(p.address)}`);
  // a pending reward can be claimed from the contract without the pool: its ton://transfer link (the first 10)
  const claims = new Map<number, string>();
  await Promise.all(payouts.filter((r) => r.status === 'pending').slice(0, 10).map(async (r) => {
    try {
      claims.set(r.epochId, (await get<{ link: string }>(`/api/v1/epochs/${r.epochId}/claims/${encodeURIComponent(p.address)}`)).link);
    } catch {
      // no claim yet (the root not committed) or none possible: the row shows none
    }
  }));
  const html = `${form}
    <div class="cards">
      <div class="card" id="card-earned">earned<b>${ton(p.rewards.earnedNanoton)}</b></div>
      <div class="card" id="card-paid">paid<b>${ton(p.rewards.paidNanoton)}</b></div>
      <div class="card">pending<b>${ton(p.rewards.pendingNanoton)}</b></div>
      <div class="card" id="card-reputation">reputation<b>${p.reputation}</b></div>
    </div>
    <section><h2>Contribution: claimed and verified tokens</h2><div id="chart-tokens"></div></section>
    <section><h2>Reputation</h2><div id="chart-reputation"></div></section>
    <section><h2>My workers</h2>${table('my-workers', ['worker', 'status', 'health', 'uptime', 'restarts'], p.workers.map((w) => [esc(w.id), esc(w.status), w.healthy === false ? '<span class="bad">unhealthy</span>' : '<span class="ok">healthy</span>', `${Math.round(w.uptimeSeconds)} s`, w.restarts]), [3, 4])}</section>
    <section><h2>Rewards and payouts</h2>
      <p class="exports">Tax export of the rewards received: <a id="export-koinly" download href="/api/v1/participants/${encodeURIComponent(p.address)}/export?format=koinly">Koinly CSV</a> · <a id="export-csv" download href="/api/v1/participants/${encodeURIComponent(p.address)}/export?format=csv">plain CSV</a></p>
      ${table('payouts', ['epoch', 'amount', 'status', 'transaction', 'proof', 'claim'], payouts.map((r) => [r.epochId, ton(r.amountNanoton), esc(r.status), esc(r.txHash ? `${r.txHash.slice(0, 12)}…` : '—'), `<a class="proof" href="/api/v1/epochs/${r.epochId}/proofs/${encodeURIComponent(p.address)}">proof</a>`, claims.has(r.epochId) ? `<a class="claim" href="${esc(claims.get(r.epochId))}" title="opens your wallet with the claim message; the contract pays you whoever sends it">claim in wallet</a>` : '—']), [0, 1])}</section>`;
  return { html, data: p };
}

function afterParticipant(p: Participant | undefined): void {
  document.getElementById('address-form')?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/participant/${(document.getElementById('address') as HTMLInputElement).value.trim()}`;
  });
  if (!p) return;
  const c = [...p.contributions].sort((a, b) => a.epochId - b.epochId);
  chart('chart-tokens', 'adjusted tokens per epoch', c.map((r) => r.epochId), [
    { label: 'claimed', values: c.map((r) => Number(r.claimedTokens)), stroke: '#ffa94d' },
    { label: 'verified (paid by the network)', values: c.map((r) => Number(r.verifiedTokens)), stroke: '#4da3ff' },
  ]);
  const h = [...p.reputationHistory].sort((a, b) => a.epochId - b.epochId);
  chart('chart-reputation', 'reputation after each epoch', h.map((r) => r.epochId), [{ label: 'reputation', values: h.map((r) => r.after), stroke: '#9775fa' }]);
}

/** Renders the view the location hash names (`#/operator`, `#/participant/<address>`). */
async function render(): Promise<void> {
  const [, page = 'operator', arg] = location.hash.split('/');
  follow(page === 'participant' && arg ? `/api/v1/events?participant=${encodeURIComponent(decodeURIComponent(arg))}` : '/api/v1/events');
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.id === `nav-${page}`);
  try {
    if (page === 'participant') {
      const { html, data } = await participantView(arg ? decodeURIComponent(arg) : null);
      if (swap(html)) afterParticipant(data);
    } else {
      const { html, epochs } = await operatorView();
      if (swap(html)) afterOperator(epochs);
    }
    live.classList.remove('stale');
    live.textContent = `${stream?.open ? 'live' : 'polling'} · ${new Date().toLocaleTimeString()}`;
    live.title = stream?.open ? 'redrawn on each event of GET /api/v1/events' : `the event stream is not connected: redrawn every ${REFRESH_MS / 1000} s`;
  } catch (err) {
    live.classList.add('stale');
    live.textContent = `stale: ${(err as Error).message}`;
  }
  clearTimeout(timer);
  timer = window.setTimeout(() => void render(), stream?.open ? STREAM_REFRESH_MS : REFRESH_MS);
}

/** Replaces the view; not while the user types in it (false then: the next refresh tries again). */
function swap(html: string): boolean {
  if (document.activeElement instanceof HTMLInputElement && view.contains(document.activeElement)) return false;
  for (const c of charts) c.destroy();
  charts = [];
  view.innerHTML = html;
  return true;
}

window.addEventListener('hashchange', () => void render());
void render();
