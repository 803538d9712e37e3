// `credence id check VALUE`: is this a valid Unified Social Credit Code or resident ID
// number? Exit 0 if valid, 1 if not. A resident ID number is personal data: the command
// never prints it back (nor any part of an invalid value, which may be a mistyped one).

import type { Command } from 'commander';
import { checkResidentId, checkUscc } from '../dataspace/identifiers.js';
import { CredenceError } from '../util/errors.js';
import { fail } from './output.js';

const LOOKS_LIKE_RESIDENT_ID = /^[0-9]{17}[0-9Xx]$/;

export interface IdVerdict {
  valid: boolean;
  kind: 'uscc' | 'resident' | 'unknown';
  pilot?: boolean;
  reason?: string;
}

/** The verdict on a raw value; `type` forces the kind. Contains nothing of the value itself. */
export function judgeId(value: string, type: string | undefined, allowPilot: boolean): IdVerdict {
  const v = value.trim();
  if (type !== 'uscc') {
    const r = checkResidentId(v);
    if (r.valid) return { valid: true, kind: 'resident' };
    // A value shaped like a resident ID number is judged as one, never waved through as a pilot USCC.
    // (An all-digit code with a correct USCC check character is still a USCC.)
    const strictUscc = type === undefined && checkUscc(v).valid;
    if (type === 'resident' || (LOOKS_LIKE_RESIDENT_ID.test(v) && !strictUscc)) return { valid: false, kind: 'resident', reason: r.reason };
  }
  const u = checkUscc(v.toUpperCase(), { allowPilot });
  if (u.valid) return u.pilot ? { valid: true, kind: 'uscc', pilot: true } : { valid: true, kind: 'uscc' };
  return { valid: false, kind: type === 'uscc' ? 'uscc' : 'unknown', reason: u.reason };
}

function describe(v: IdVerdict): string {
  if (v.kind === 'resident') return v.valid ? 'valid resident ID number (GB 11643-1999)' : `invalid resident ID number: ${v.reason}`;
  if (v.valid) {
    return v.pilot === true
      ? 'valid pilot-era Unified Social Credit Code (its check character does not follow GB 32100-2015; accepted because of --allow-pilot)'
      : 'valid Unified Social Credit Code (GB 32100-2015)';
  }
  const hint = v.reason === 'pilot-needs-flag' ? ' (if this is a pilot-era code issued before the standard, pass --allow-pilot)' : '';
  return `invalid: not a valid Unified Social Credit Code or resident ID number (${v.reason})${hint}`;
}

export function registerId(program: Command): void {
  const id = program.command('id').description('subject identifiers (Unified Social Credit Codes, resident ID numbers)');
  id.command('check')
    .description('check a Unified Social Credit Code or resident ID number; exit 0 if valid, 1 if not (never prints a personal ID number)')
    .argument('<value>', 'the code or number to check')
    .option('--allow-pilot', 'accept pilot-era USCCs whose check character predates GB 32100-2015', false)
    .option('--type <type>', 'uscc or resident (default: decide from the value)')
    .option('--json', 'print the verdict as JSON', false)
    .action((value: string, o: { allowPilot: boolean; type?: string; json: boolean }) => {
      try {
        if (o.type !== undefined && o.type !== 'uscc' && o.type !== 'resident') throw new CredenceError('USAGE', '--type must be uscc or resident');
        const verdict = judgeId(value, o.type, o.allowPilot);
        process.stdout.write(o.json ? `${JSON.stringify(verdict)}\n` : `${describe(verdict)}\n`);
        process.exitCode = verdict.valid ? 0 : 1;
      } catch (e) {
        fail(e);
      }
    });
}
