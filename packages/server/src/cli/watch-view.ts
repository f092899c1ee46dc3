/**
 * How `tasklane tasks watch` draws a task as its events come: on a terminal, a progress bar
 * (cli-progress) with the progress message, the status changes and steps printed above it; piped or
 * redirected, one plain line per change (`status`, `progress`, `step`), so a log or a script reads it.
 */
import cliProgress from 'cli-progress';
import type { StreamItem, Task } from '@tasklane/sdk';
import { out, shortTime, truncate } from './print.js';

export interface WatchView {
  /** The task as loaded (at the start, and after a reset). */
  show(task: Task): void;
  item(item: StreamItem): void;
  /** The connection dropped: it resumes in `delayMs`. */
  reconnecting(delayMs: number, cause: unknown): void;
  /** Takes the bar down, leaving what was printed. */
  stop(): void;
}

export function watchView(stream: NodeJS.WriteStream = process.stdout): WatchView {
  return stream.isTTY === true ? new BarView(stream) : new LineView();
}

/** One line of text for a change, or null when it shows nothing (updated, progress on a bar). */
export function changeLine(item: StreamItem): string | null {
  switch (item.type) {
    case 'task.created':
      return `created   ${item.data.status}`;
    case 'task.status_changed':
      return `status    ${item.data.from} → ${item.data.to} (${item.data.cause})`;
    case 'task.step':
      return `step      ${shortTime(item.data.step.time)}  ${item.data.step.message}`;
    case 'task.progress':
      return `progress  ${percent(item.data.progress)}${item.data.progressMessage === null ? '' : `  ${item.data.progressMessage}`}`;
    case 'task.deleted':
      return 'deleted';
    case 'reset':
      return `(events since ${item.data.after} are gone; reloaded the task)`;
    case 'task.updated':
      return null;
    default: {
      const _exhaustive: never = item;
      return _exhaustive;
    }
  }
}

/** Why a connection dropped, in a few words. */
function why(cause: unknown): string {
  if (cause === null) return 'the server ended the stream';
  return cause instanceof Error ? cause.message : String(cause);
}

const percent = (p: number | null) => (p === null ? '-' : `${Math.round(p * 100)}%`);

class LineView implements WatchView {
  show(task: Task): void {
    const progress = task.progress === null ? '' : `, ${percent(task.progress)}`;
    out(`task      ${task.identifier ?? task.id} (${task.type}): ${task.status}${progress}`);
  }

  item(item: StreamItem): void {
    const line = changeLine(item);
    if (line !== null) out(line);
  }

  reconnecting(delayMs: number, cause: unknown): void {
    // On stderr: stdout stays the task's story, whatever the connection did.
    process.stderr.write(`tasklane: connection lost (${why(cause)}); resuming in ${(delayMs / 1000).toFixed(1)} s\n`);
  }

  stop(): void {}
}

class BarView implements WatchView {
  private readonly bars: cliProgress.MultiBar;
  private readonly bar: cliProgress.SingleBar;
  private status = '';

  constructor(stream: NodeJS.WriteStream) {
    this.bars = new cliProgress.MultiBar(
      {
        stream,
        format: '{bar} {percentage}%  {status}  {message}',
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar = this.bars.create(100, 0, { status: '', message: '' });
  }

  show(task: Task): void {
    this.status = task.status;
    this.log(`${task.identifier ?? task.id} (${task.type}): ${truncate(task.title, 80)}`);
    this.bar.update(Math.round((task.progress ?? 0) * 100), {
      status: task.status,
      message: task.progressMessage ?? '',
    });
  }

  item(item: StreamItem): void {
    if (item.type === 'task.progress') {
      this.bar.update(Math.round((item.data.progress ?? 0) * 100), {
        status: this.status,
        message: truncate(item.data.progressMessage ?? '', 60),
      });
      return;
    }
    if (item.type === 'task.status_changed') {
      this.status = item.data.to;
      this.bar.update({ status: this.status });
    }
    const line = changeLine(item);
    if (line !== null) this.log(line);
  }

  reconnecting(delayMs: number, cause: unknown): void {
    this.log(`(connection lost: ${why(cause)}; resuming in ${(delayMs / 1000).toFixed(1)} s)`);
  }

  stop(): void {
    this.bars.stop();
  }

  private log(line: string): void {
    this.bars.log(`${line}\n`);
  }
}
