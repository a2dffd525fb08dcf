import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { tracer, tracingEnabled } from '../tracing/tracing';

/*
 * The request's span is kept on `res.locals.span` and each child span is parented on it explicitly, not on the
 * ambient context: a body parser resumes the chain from the socket's own async context, where the request's would
 * be lost. Inside a child span (`traced`) the ambient context is the child's, so what it awaits (the upstream call
 * and its `traceparent`) nests under it.
 */

/** The request's server span: from the caller's W3C `traceparent` when it sent one, else a new trace. */
export function traceRequests(): RequestHandler {
  return (req, res, next) => {
    if (!tracingEnabled()) return next();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      `${req.method} gateway`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } },
      parent,
    );
    res.locals.span = span;
    res.locals.traceId = span.spanContext().traceId;
    const end = () => {
      res.off('finish', end);
      res.off('close', end);
      const operation = res.locals.operation?.id;
      if (operation) span.updateName(`${req.method} ${operation}`);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (operation) span.setAttribute('gateway.operation', operation);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.on('finish', end);
    res.on('close', end);
    context.with(trace.setSpan(parent, span), next);
  };
}

function requestContext(res: Response): Context {
  const span = res.locals.span as Span | undefined;
  return span ? trace.setSpan(ROOT_CONTEXT, span) : context.active();
}

/**
 * A middleware as a child span of the request's (`gateway.authenticate`, `gateway.decision`, …): it ends when the
 * middleware passes the request on, answers it, or fails. The next steps run in the request's context, not this one.
 */
export function traced(name: string, middleware: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!tracingEnabled()) return middleware(req, res, next);
    const parent = requestContext(res);
    const span = tracer().startSpan(name, { kind: SpanKind.INTERNAL }, parent);
    let ended = false;
    const end = (err?: unknown) => {
      if (ended) return;
      ended = true;
      if (err) span.setStatus({ code: SpanStatusCode.ERROR, message: (err as { code?: string }).code ?? 'error' });
      span.end();
    };
    res.once('finish', () => end());
    const after: NextFunction = (err?: unknown) => {
      end(err);
      context.with(parent, () => next(err as Error));
    };
    return context.with(trace.setSpan(parent, span), () => {
      try {
        const result = middleware(req, res, after) as unknown;
        if (result && typeof (result as Promise<unknown>).then === 'function')
          return (result as Promise<unknown>).then(undefined, (err: unknown) => {
            end(err);
            throw err;
          });
        return result;
      } catch (err) {
        end(err);
        throw err;
      }
    }) as ReturnType<RequestHandler>;
  };
}
