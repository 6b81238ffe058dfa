import type { Response } from 'supertest';

/** Asserts an RFC 7807 answer with this status, and that nothing internal leaked into it. */
export function expectProblem(res: Response, status: number): Record<string, unknown> {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.body as Record<string, unknown>;
  expect(body).toEqual(
    expect.objectContaining({
      type: expect.stringMatching(/^urn:specserve:problem:[a-z-]+$/),
      title: expect.any(String),
      status,
      detail: expect.any(String),
    }),
  );
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/\bat .+\(.+:\d+:\d+\)/); // stack frames
  expect(text).not.toMatch(/node_modules|\/work\/|\.ts:\d+/);
  return body;
}
