import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as an OTLP/HTTP receiver gets it, whichever encoding: ids in hex. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
}

/** An in-process OTLP/HTTP trace receiver (POST /v1/traces), decoding `application/x-protobuf` and `application/json`. */
export async function startOtlpReceiver(): Promise<{
  url: string;
  spans: ReceivedSpan[];
  contentTypes: Set<string>;
  close(): Promise<void>;
}> {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = String(req.headers['content-type']);
      contentTypes.add(type);
      if (req.url !== '/v1/traces') return void res.writeHead(404).end();
      spans.push(...(type.startsWith('application/json') ? fromJson(body) : fromProtobuf(body)));
      res.writeHead(200, { 'content-type': type }).end(type.startsWith('application/json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

function fromJson(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString('utf8')) as {
    resourceSpans: { scopeSpans: { spans: JsonSpan[] }[] }[];
  };
  return request.resourceSpans.flatMap((r) =>
    r.scopeSpans.flatMap((s) =>
      s.spans.map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
      })),
    ),
  );
}

/** The protobuf wire format, as far as the fields read here need: varints and length-delimited fields. */
function fields(buf: Buffer): { field: number; wire: number; value: Buffer | number }[] {
  const out: { field: number; wire: number; value: Buffer | number }[] = [];
  let pos = 0;
  const varint = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = buf[pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 2) {
      const length = varint();
      out.push({ field, wire, value: buf.subarray(pos, pos + length) });
      pos += length;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`protobuf wire type ${wire} not expected`);
  }
  return out;
}

const sub = (buf: Buffer, n: number) =>
  fields(buf)
    .filter((f) => f.field === n)
    .map((f) => f.value as Buffer);

// ExportTraceServiceRequest.resource_spans = 1; ResourceSpans.scope_spans = 2; ScopeSpans.spans = 2;
// Span: trace_id = 1, span_id = 2, parent_span_id = 4, name = 5, kind = 6.
function fromProtobuf(body: Buffer): ReceivedSpan[] {
  return sub(body, 1).flatMap((resourceSpans) =>
    sub(resourceSpans, 2).flatMap((scopeSpans) =>
      sub(scopeSpans, 2).map((span) => {
        const f = fields(span);
        const bytes = (n: number) => (f.find((x) => x.field === n)?.value as Buffer | undefined) ?? Buffer.alloc(0);
        return {
          traceId: bytes(1).toString('hex'),
          spanId: bytes(2).toString('hex'),
          parentSpanId: bytes(4).toString('hex'),
          name: bytes(5).toString('utf8'),
          kind: (f.find((x) => x.field === 6)?.value as number | undefined) ?? 0,
        };
      }),
    ),
  );
}
