import fc from 'fast-check';
import { requestIdFor } from './request-log';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFor', () => {
  it("keeps a client's sane id", () => {
    for (const id of ['abc', 'req-42', 'trace:1.2_3', 'A'.repeat(128), '0']) expect(requestIdFor(id)).toBe(id);
  });

  it('replaces a missing, empty, long, repeated or unsafe id with a new UUID', () => {
    const cases: (string | string[] | undefined)[] = [undefined, '', 'A'.repeat(129), ['a', 'b'], 'a b', 'a,b', 'line\nbreak', '"quoted"', 'ü', 'a/b'];
    for (const header of cases) expect(requestIdFor(header)).toMatch(UUID);
    expect(requestIdFor(undefined)).not.toBe(requestIdFor(undefined));
  });

  it('whatever comes in, what goes out is safe to log and to echo in a header', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.constant(undefined)), (header) => {
        const id = requestIdFor(header);
        expect(id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
        if (header !== undefined && /^[A-Za-z0-9._:-]{1,128}$/.test(header)) expect(id).toBe(header);
      }),
    );
  });
});
