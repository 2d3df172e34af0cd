import { describe, expect, it } from 'vitest';
import { buttonId, parseButtonId } from '../../src/bot/custom-ids.js';

describe('button custom_ids', () => {
  it.each([
    ['reroll:AbC_12-xyzAbC_12-', { action: 'reroll', jobId: 'AbC_12-xyzAbC_12-' }],
    ['edit:abc', { action: 'edit', jobId: 'abc' }],
    ['delete:abc', { action: 'delete', jobId: 'abc' }],
    ['smaller:abc', { action: 'smaller', jobId: 'abc' }],
    ['larger:abc', { action: 'larger', jobId: 'abc' }],
    ['use2:abc', { action: 'use', jobId: 'abc', candidate: 2 }],
    ['use:abc', undefined],
    ['use0:abc', undefined],
    ['reroll2:abc', undefined],
    ['explode:abc', undefined],
    ['reroll:../../etc/passwd', undefined],
    ['reroll:', undefined],
    ['reroll', undefined],
    ['', undefined],
  ])('%s parses to %j', (id, parsed) => {
    expect(parseButtonId(id)).toEqual(parsed);
  });

  it('round-trips and stays within 100 characters', () => {
    const id = buttonId('reroll', 'A'.repeat(16));
    expect(id.length).toBeLessThanOrEqual(100);
    expect(parseButtonId(id)).toEqual({ action: 'reroll', jobId: 'A'.repeat(16) });
    expect(() => buttonId('reroll', 'A'.repeat(100))).toThrow(RangeError);
    expect(parseButtonId(buttonId('use', 'abc', 4))).toEqual({ action: 'use', jobId: 'abc', candidate: 4 });
  });
});
