import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TenantryError } from '@tenantry/core';
import { HttpTenancyError } from '@tenantry/http';
import { tenantryOf } from './request-state.js';
import { TenancyService } from './tenancy.service.js';

/** A Nest `HttpException` (router 404, a pipe's 400, a guard's 403, a handler's 401) as the Tenantry error it stands for. */
function fromNest(error: HttpException): Error {
  const status = error.getStatus();
  if (status === 404) return new HttpTenancyError('HTTP_NOT_FOUND', 'No such route');
  if (status === 403) return new TenantryError('PERMISSION_DENIED', 'Access denied');
  if (status === 413) return new HttpTenancyError('HTTP_PAYLOAD_TOO_LARGE', 'The request body is too large');
  if (status === 429) return new HttpTenancyError('HTTP_RATE_LIMITED', 'Too many requests');
  // Our own token failures are Tenantry errors already; a Nest 401 comes from the app (a sign-in
  // handler refusing a password), where no token is involved.
  if (status === 401) return new HttpTenancyError('HTTP_UNAUTHORIZED', 'Authentication failed');
  if (status >= 400 && status < 500)
    return new HttpTenancyError('HTTP_BAD_REQUEST', 'The request is malformed');
  return error; // 5xx: a bare 500 without message
}

/**
 * Global filter: every error as an RFC 9457 `application/problem+json` answer from `@tenantry/http`:
 * Tenantry codes with their status, validation failures with field paths, anything else a bare 500
 * without message, stack or SQL. Works on the Express and Fastify platforms.
 */
export class TenancyExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const http = host.switchToHttp();
    const req = http.getRequest<object>();
    const res = http.getResponse<object>();
    const adapter = this.adapterHost.httpAdapter;
    const mapped = error instanceof HttpException ? fromNest(error) : error;
    const requestId = tenantryOf(req)?.requestId;
    const problem = this.tenancy.http.problem(mapped, requestId);
    if (requestId !== undefined) adapter.setHeader(res, 'x-request-id', requestId);
    for (const [name, value] of Object.entries(problem.headers)) adapter.setHeader(res, name, value);
    adapter.reply(res, JSON.stringify(problem.body), problem.status);
  }
}

Catch()(TenancyExceptionFilter);
Inject(TenancyService)(TenancyExceptionFilter, undefined, 0);
Inject(HttpAdapterHost)(TenancyExceptionFilter, undefined, 1);
