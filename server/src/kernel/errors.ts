import type { FastifyError, FastifyInstance } from 'fastify';

/**
 * The one error type. `code` is stable and machine-readable; the HTTP mapping lives in
 * `registerErrorHandler` below and nowhere else.
 */
export type ErrorCode =
  | 'unauthenticated' // 401 Invalid Access Token
  | 'unauthorized' // 401 not allowed (the reference uses 401 for policy denials)
  | 'identity_invalid' // 401 HMAC identity validation failed
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'conflict' // 409
  | 'validation' // 422 {message, attributes}
  | 'unprocessable' // 422 {error}
  | 'payload_too_large' // 413
  | 'rate_limited'; // 429

const STATUS: Record<ErrorCode, number> = {
  unauthenticated: 401,
  unauthorized: 401,
  identity_invalid: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  validation: 422,
  unprocessable: 422,
  payload_too_large: 413,
  rate_limited: 429,
};

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { attributes?: string[]; retryAfterS?: number; details?: Record<string, unknown> } = {},
  ) {
    super(message);
  }
  get status() {
    return STATUS[this.code];
  }
}

export const errors = {
  invalidToken: () => new AppError('unauthenticated', 'Invalid Access Token'),
  notAuthorized: () => new AppError('unauthorized', 'You are not authorized to do this action'),
  notFound: () => new AppError('not_found', 'Resource could not be found'),
  forbidden: (message: string) => new AppError('forbidden', message),
  unprocessable: (message: string) => new AppError('unprocessable', message),
  /** A model-level validation failure: `{message, attributes}` as the reference renders it. */
  invalid: (message: string, attributes: string[], details?: Record<string, unknown>) =>
    new AppError('validation', message, { attributes, details }),
  rateLimited: (retryAfterS: number) => new AppError('rate_limited', 'Too many requests, retry later', { retryAfterS }),
  payloadTooLarge: (message = 'Request body is too large') => new AppError('payload_too_large', message),
};

function body(err: AppError) {
  const out: Record<string, unknown> = { error: err.message };
  if (err.code === 'validation') {
    out.message = err.message;
    out.attributes = err.extra.attributes ?? [];
  }
  if (err.extra.details) Object.assign(out, err.extra.details);
  return out;
}

/** Maps every error to HTTP in one place. Bad input is 4xx JSON; anything unexpected is a logged 500 with a request id. */
export function registerErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    // Refused before its body arrived (authentication runs first): the rest of the body is not
    // read, so this connection cannot carry another request.
    if (request.raw.complete === false) reply.header('connection', 'close');
    if (error instanceof AppError) {
      if (error.extra.retryAfterS !== undefined) reply.header('retry-after', String(error.extra.retryAfterS));
      return reply.status(error.status).send(body(error));
    }
    const fe = error as FastifyError;
    // A path segment that is not what the route takes (`/contacts/abc`) names no record: 404, as the
    // reference answers (its lookups cast the segment and find nothing).
    if (fe.validation && fe.validationContext === 'params') return reply.status(404).send({ error: 'Resource could not be found' });
    if (fe.validation) {
      const attributes = [
        ...new Set(
          fe.validation.map((v) => {
            const p = (v.instancePath || '').split('/').filter(Boolean).join('.');
            const missing = (v.params as { missingProperty?: string })?.missingProperty;
            return missing ? (p ? `${p}.${missing}` : missing) : p || fe.validationContext || 'body';
          }),
        ),
      ];
      const message = fe.validation
        .map((v) => {
          const where = (v.instancePath || '').split('/').filter(Boolean).join('.');
          return where ? `${where} ${v.message}` : `${fe.validationContext ?? 'request'} ${v.message}`;
        })
        .join(', ');
      return reply.status(422).send({ error: message, message, attributes });
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fe.statusCode === 413) {
      return reply.status(413).send({ error: 'Request body is too large' });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      const message =
        fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe instanceof SyntaxError
          ? 'Malformed JSON in request body'
          : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'Unsupported Content-Type'
            : fe.message;
      return reply.status(fe.statusCode).send({ error: message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: 'Internal server error', request_id: request.id });
  });

  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ error: 'Resource could not be found' }));
}
