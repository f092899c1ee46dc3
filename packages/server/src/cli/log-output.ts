/**
 * How `serve` writes its logs: one readable line per record for a person at a terminal
 * (pino-pretty, in this thread, so lines keep their order with what the CLI prints itself), and
 * pino's JSON lines for everything else (a pipe, a file, a log collector).
 */
import PinoPretty from 'pino-pretty';

export type LogFormat = 'auto' | 'pretty' | 'json';

/** Whether `format` means pretty lines on this stdout (`auto`: when it is a terminal). */
export function wantsPretty(format: string, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return format === 'pretty' || (format === 'auto' && stdout.isTTY === true);
}

/** A pretty printer onto stdout, for startServer's `logStream`. */
export function prettyLogStream(): PinoPretty.PrettyStream {
  return PinoPretty({
    destination: 1,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    // What the message line below says already, or nobody at a terminal needs.
    ignore: 'pid,hostname,reqId,req,res,responseTime',
    messageFormat: prettyMessage,
  });
}

interface LogRecord {
  msg?: unknown;
  reqId?: unknown;
  req?: { method?: unknown; url?: unknown };
  res?: { statusCode?: unknown };
  responseTime?: unknown;
}

/** `GET /v1/tasks 200 3 ms [request id]` for a request; the message and its request id otherwise. */
export function prettyMessage(log: Record<string, unknown>, messageKey = 'msg'): string {
  const record = log as LogRecord;
  const message = String(log[messageKey] ?? '');
  const { req, res, responseTime } = record;
  let line = message;
  if (req !== undefined && message === 'request completed') {
    const ms = typeof responseTime === 'number' ? ` ${responseTime.toFixed(responseTime < 10 ? 1 : 0)} ms` : '';
    line = `${String(req.method)} ${String(req.url)} ${String(res?.statusCode ?? '')}${ms}`;
  } else if (req !== undefined && message === 'incoming request') {
    line = `${String(req.method)} ${String(req.url)} …`;
  }
  return typeof record.reqId === 'string' ? `${line} [${record.reqId}]` : line;
}
