/**
 * Tax export: GET /api/v1/participants/:address/export?format=koinly|csv&from=&to=, every reward the
 * participant RECEIVED (rewards rows with status `paid`), one CSV row each, oldest first.
 *
 * - `format=koinly`: Koinly's "universal" import template (support.koinly.io, "How to create a custom
 *   CSV file with your data"; labels: help.koinly.io "What are labels"): Date (UTC,
 *   `YYYY-MM-DD HH:mm:ss UTC`), Sent Amount, Sent Currency, Received Amount (TON, 9 decimals),
 *   Received Currency (TON), Fee Amount, Fee Currency, Net Worth Amount, Net Worth Currency, Label
 *   (`reward`: income), Description (`epoch N`), TxHash.
 * - `format=csv`: date_utc (ISO 8601), epoch, amount_nanoton, amount_ton (9 decimals), currency,
 *   label, method (batch | claim), tx_hash, fiat_value, fiat_currency.
 * - `from` / `to`: a day `YYYY-MM-DD` (00:00 UTC) or an ISO 8601 time with its offset; on the paid
 *   time, `from` inclusive, `to` exclusive.
 * - Fiat: only from the operator's price file (config `exports.pricesFile`, {@link loadPriceFile}),
 *   nothing is fetched: the value is amount × that UTC day's price, 2 decimals rounded half up
 *   (domain/money.ts fiatValue); a day without a price (or no file) leaves both fiat cells empty.
 *
 * 404 for an unknown participant (the rule of GET /api/v1/participants/:address: no worker,
 * contribution, verified revenue, token credit, reward or registration); a known one without paid
 * rewards gets the header row only. The file is `text/csv` served as an attachment named
 * `<raw address, ':' as '_'>-rewards-<format>.csv`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { stringify } from 'csv-stringify/sync';
import { sql } from 'kysely';
import { readFileSync } from 'node:fs';
import Type from 'typebox';
import { ConfigError } from '../../config/config.ts';
import { DECIMAL_PRICE, fiatValue, formatTonFixed } from '../../domain/money.ts';
import { addressIn, AddressParam, badRequest, notFound } from '../common.ts';
import type { RouteOptions } from './options.ts';

/** Daily prices of 1 TON in one fiat currency: UTC day `YYYY-MM-DD` → decimal price string. */
export interface PriceTable {
  /** ISO 4217 code, e.g. `USD` */
  currency: string;
  byDay: ReadonlyMap<string, string>;
}

const DAY = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

/** Whether `YYYY-MM-DD` names a real calendar day (no 2026-02-30). */
function isRealDay(day: string): boolean {
  const m = DAY.exec(day);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === day;
}

/**
 * Reads the operator's price file: CSV with the header `date,price`, then one `YYYY-MM-DD,<price>`
 * line per UTC day (price of 1 TON in `currency`, a plain decimal such as `2.345`; each day once;
 * blank lines ignored). Read once at start.
 * @throws ConfigError naming the file and each bad line (number, content, rule), or the read error.
 */
export function loadPriceFile(file: string, currency: string): PriceTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`exports.pricesFile ${file} cannot be read: ${(err as Error).message}`]);
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const problems: string[] = [];
  const at = (i: number, rule: string) => problems.push(`exports.pricesFile ${file} line ${i + 1} (${JSON.stringify(lines[i]!.slice(0, 80))}): ${rule}`);
  const byDay = new Map<string, string>();
  const header = lines.findIndex((l) => l.trim() !== '');
  if (header < 0) throw new ConfigError([`exports.pricesFile ${file}: is empty (expected the header date,price)`]);
  if (lines[header]!.trim().toLowerCase().replace(/\s/g, '') !== 'date,price') at(header, 'must be the header date,price');
  for (let i = header + 1; i < lines.length && problems.length < 20; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== 2) {
      at(i, 'must be <YYYY-MM-DD>,<price>');
      continue;
    }
    const [day, price] = cells as [string, string];
    if (!isRealDay(day)) at(i, `${JSON.stringify(day)} is not a day YYYY-MM-DD`);
    else if (!DECIMAL_PRICE.test(price)) at(i, `${JSON.stringify(price)} is not a decimal price (digits, optional . and up to 18 decimals)`);
    else if (byDay.has(day)) at(i, `${day} has a price already`);
    else byDay.set(day, price);
  }
  if (problems.length) throw new ConfigError(problems);
  return { currency, byDay };
}

const Time = Type.String({
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,3})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$',
  description: 'a day YYYY-MM-DD (00:00 UTC) or an ISO 8601 time with its offset (2026-01-31T12:00:00Z)',
});

/** `value` (matching `Time`) as unix ms. @throws HttpError 400 naming `path` for a day or time that does not exist. */
function timeIn(value: string, path: string): number {
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (!isRealDay(value.slice(0, 10)) || Number.isNaN(ms)) throw badRequest(path, `is not a real day or time (got ${JSON.stringify(value)})`);
  return ms;
}

const KOINLY_COLUMNS = ['Date', 'Sent Amount', 'Sent Currency', 'Received Amount', 'Received Currency', 'Fee Amount', 'Fee Currency', 'Net Worth Amount', 'Net Worth Currency', 'Label', 'Description', 'TxHash'];
const CSV_COLUMNS = ['date_utc', 'epoch', 'amount_nanoton', 'amount_ton', 'currency', 'label', 'method', 'tx_hash', 'fiat_value', 'fiat_currency'];

/** The tax export route (Fastify plugin). */
export const exportsRoutes: FastifyPluginAsyncTypebox<RouteOptions & { prices?: PriceTable }> = async (app, { db, prices }) => {
  app.get(
    '/api/v1/participants/:address/export',
    {
      schema: {
        description: 'Every reward the participant received (paid), as CSV: Koinly universal template (format=koinly) or plain (format=csv); from inclusive, to exclusive, on the paid time.',
        params: Type.Object({ address: AddressParam }),
        querystring: Type.Object(
          {
            format: Type.String({ pattern: '^(koinly|csv)$', description: 'koinly or csv' }),
            from: Type.Optional(Time),
            to: Type.Optional(Time),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'text/csv attachment, header row first; one row per reward received',
            content: { 'text/csv': { schema: Type.String() } },
          },
        },
      },
    },
    async (req, reply) => {
      const address = addressIn(req.params.address, 'params/address');
      const format = req.query.format as 'koinly' | 'csv';
      const from = req.query.from === undefined ? null : timeIn(req.query.from, 'querystring/from');
      const to = req.query.to === undefined ? null : timeIn(req.query.to, 'querystring/to');
      if (from !== null && to !== null && from >= to) throw badRequest('querystring/to', `must be after from (${req.query.from} .. ${req.query.to} is empty)`);

      const known = await sql<{ known: boolean }>`
        select exists (select 1 from workers where participant = ${address})
          or exists (select 1 from contributions where participant = ${address})
          or exists (select 1 from member_revenue where member = ${address})
          or exists (select 1 from token_credits where participant = ${address})
          or exists (select 1 from rewards where participant = ${address})
          or exists (select 1 from participants where participant = ${address}) as known`.execute(db);
      if (!known.rows[0]?.known) throw notFound(`no participant ${address}: no worker, contribution, verified revenue, reward or registration`);

      let q = db
        .selectFrom('rewards')
        .select(['epoch_id', 'amount_nanoton', 'method', 'tx_hash', 'paid_at_ms'])
        .where('participant', '=', address)
        .where('status', '=', 'paid')
        .where('paid_at_ms', 'is not', null);
      if (from !== null) q = q.where('paid_at_ms', '>=', from);
      if (to !== null) q = q.where('paid_at_ms', '<', to);
      const rows = await q.orderBy('paid_at_ms').orderBy('epoch_id').execute();

      const records = rows.map((r) => {
        const at = new Date(Number(r.paid_at_ms));
        const iso = at.toISOString();
        const nanoton = BigInt(r.amount_nanoton);
        const price = prices?.byDay.get(iso.slice(0, 10));
        const fiat = price === undefined ? '' : fiatValue(nanoton, price);
        const fiatCurrency = price === undefined ? '' : prices!.currency;
        const ton = formatTonFixed(nanoton);
        return format === 'koinly'
          ? [`${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`, '', '', ton, 'TON', '', '', fiat, fiatCurrency, 'reward', `epoch ${r.epoch_id}`, r.tx_hash ?? '']
          : [iso, String(r.epoch_id), String(r.amount_nanoton), ton, 'TON', 'reward', r.method ?? '', r.tx_hash ?? '', fiat, fiatCurrency];
      });
      const csv = stringify(records, { header: true, columns: format === 'koinly' ? KOINLY_COLUMNS : CSV_COLUMNS });
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${address.replace(':', '_')}-rewards-${format}.csv"`)
        .send(csv);
    },
  );
};
