// createNetns / deleteNetns refuse a name that is not one namespace name with ValidationError
// (field 'name', the value), as every other bad argument is refused, before anything is created
// or removed (issue 14: '../x' surfaced as the addon's RangeError). No kernel needed: nothing is
// sent for a refused name.
import { afterAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns } from '../../lib/socket.js';
import { ValidationError } from '../../lib/errors.js';

// 'NAME\0x' would reach open() as NAME (C strings end at the NUL): were it ever accepted, the
// afterAll below removes what it made, so a regression cannot leave a namespace behind.
const nul = `lvskit-nul-${process.pid}`;
const bad: unknown[] = ['../x', '..', '.', '', 'a/b', '/run/netns/x', `${nul}\0x`, 'x'.repeat(256), 'é'.repeat(128), 7, undefined, null, { name: 'x' }];

function refusal(f: () => void): ValidationError {
  try {
    f();
  } catch (e) {
    return e as ValidationError;
  }
  throw new Error('no error');
}

describe('namespace names', () => {
  afterAll(() => {
    try {
      deleteNetns(nul);
    } catch {
      /* not there: the name was refused, as it must be */
    }
  });
  for (const [what, fn] of [['createNetns', createNetns], ['deleteNetns', deleteNetns]] as const) {
    it(`${what} refuses a bad name with ValidationError naming field and value`, () => {
      for (const name of bad) {
        const e = refusal(() => fn(name as string));
        expect(e, JSON.stringify(name)).toBeInstanceOf(ValidationError);
        expect(e.field, JSON.stringify(name)).toBe('name');
        expect(e.value, JSON.stringify(name)).toBe(name);
      }
    });
  }
});
