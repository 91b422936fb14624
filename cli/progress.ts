// A single-line progress display on stderr, only when stderr is a terminal (so logs and pipes
// stay clean): `label 12/40 detail`, redrawn at most every 50 ms, erased when done.
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export class Progress {
  private last = 0;
  private shown = false;
  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
  ) {}

  update(done: number, total: number, detail = ''): void {
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (now - this.last < 50 && done < total) return;
    this.last = now;
    const line = `${this.label} ${done}/${total}${detail ? ` ${detail}` : ''}`;
    this.stream.write(`\r\x1b[2K${line.length > 100 ? `${line.slice(0, 97)}...` : line}`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
