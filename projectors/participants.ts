/**
 * Participants as the on-chain registry sees them, from its chain events: stake, status, GPU spec,
 * pending withdrawal and slashes. The registry's events come in lt order; one with an lt not above
 * the last applied for its participant (a transaction indexed again) is skipped.
 */
import type { ParticipantsTable } from '../db/schema.ts';
import type { RecordedEvent } from '../schemas/catalog.ts';
import type { Projection, ProjectionContext } from './projection.ts';
import { upsertRows } from './rows.ts';

export const PARTICIPANTS_PROJECTION = 'participants';

/** Creates the participants projection. */
export function participantsProjection(): Projection {
  return {
    name: PARTICIPANTS_PROJECTION,
    canHandle: ['ParticipantRegistered', 'StakeDeposited', 'WithdrawalRequested', 'WithdrawalCompleted', 'ParticipantSlashed'],
    tables: ['participants'],
    handle: apply,
  };
}

const STATUS = ['active', 'suspended'];

async function apply(events: readonly RecordedEvent[], { db }: ProjectionContext): Promise<void> {
  const ids = [...new Set(events.map((e) => (e.data as { participant: string }).participant))];
  const rows = new Map<string, ParticipantsTable>();
  for (const r of await db.selectFrom('participants').selectAll().where('participant', 'in', ids).execute()) rows.set(r.participant, r);
  for (const e of events) {
    const known = rows.get((e.data as { participant: string }).participant);
    const lt = BigInt((e.data as { lt: string }).lt);
    if (known && lt <= BigInt(known.last_lt)) continue;
    if (known) known.last_lt = String(lt);
    switch (e.type) {
      case 'ParticipantRegistered':
        rows.set(e.data.participant, {
          participant: e.data.participant,
          stake_nanoton: e.data.stakeNanoton,
          status: 'active',
          gpu_spec_hash: e.data.gpuSpecHash,
          gpu_count: e.data.gpuCount,
          worker: e.data.worker,
          registered_at_ms: e.data.chainTime * 1000,
          pending_withdrawal_nanoton: '0',
          unlock_at: null,
          slashed_nanoton: '0',
          slashes: 0,
          last_lt: e.data.lt,
        });
        break;
      case 'StakeDeposited': {
        const p = rows.get(e.data.participant);
        if (p) Object.assign(p, { stake_nanoton: e.data.stakeNanoton, status: STATUS[e.data.status] ?? p.status });
        break;
      }
      case 'WithdrawalRequested': {
        const p = rows.get(e.data.participant);
        if (p) Object.assign(p, { pending_withdrawal_nanoton: e.data.amountNanoton, unlock_at: e.data.unlockAt });
        break;
      }
      case 'WithdrawalCompleted': {
        const p = rows.get(e.data.participant);
        if (p) Object.assign(p, { stake_nanoton: e.data.stakeNanoton, pending_withdrawal_nanoton: '0', unlock_at: null, status: e.data.stakeNanoton === '0' ? 'left' : p.status });
        break;
      }
      case 'ParticipantSlashed': {
        const p = rows.get(e.data.participant);
        if (!p) break;
        Object.assign(p, {
          stake_nanoton: e.data.stakeNanoton,
          status: e.data.stakeNanoton === '0' ? 'left' : (STATUS[e.data.status] ?? p.status),
          slashed_nanoton: String(BigInt(p.slashed_nanoton) + BigInt(e.data.amountNanoton)),
          slashes: p.slashes + 1,
        });
        break;
      }
    }
  }
  await upsertRows(db, 'participants', 'participant', [...rows.values()] as unknown as Record<string, unknown>[]);
}
