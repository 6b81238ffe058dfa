import { ProblemError } from './errors';

/** An RFC 7807 problem body. Extension members sit beside the standard ones. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: Problem;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem types are URNs: stable identifiers, documented in the README, not links to fetch. */
export function problemType(slug: string): string {
  return `urn:specserve:problem:${slug}`;
}

const STANDARD_MEMBERS = new Set(['type', 'title', 'status', 'detail']);

/** Extension members may add to a problem body but never replace its standard members. */
function withoutStandardMembers(extensions: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(extensions).filter(([key]) => !STANDARD_MEMBERS.has(key)));
}

/**
 * The one place where errors become HTTP answers. Unknown errors become a plain 500 whose detail
 * never carries the message or stack (they may hold paths or internals); the caller logs them.
 */
export function toProblem(err: unknown, { errorMember = false }: { errorMember?: boolean } = {}): ProblemResponse {
  const problem = problemOf(err);
  // TF Serving and KServe clients read the message from an `error` member; it repeats `detail`.
  if (errorMember) problem.body.error = problem.body.detail;
  return problem;
}

function problemOf(err: unknown): ProblemResponse {
  if (err instanceof ProblemError) {
    return {
      status: err.status,
      headers: { ...err.headers },
      body: { type: problemType(err.slug), title: err.title, status: err.status, detail: err.detail, ...withoutStandardMembers(err.extensions) },
    };
  }
  return {
    status: 500,
    headers: {},
    body: {
      type: problemType('internal'),
      title: 'Internal Server Error',
      status: 500,
      detail: 'The server failed to handle this request; the failure has been logged.',
    },
  };
}
