/**
 * A byte-exact SMTP client on a raw net.Socket, for the cases real clients refuse to produce
 * (bare LF / CR in DATA, garbage commands, held-open idle sessions). Every wait is bounded.
 */
import net from 'node:net';

export class RawSmtpClient {
  private buffer = '';
  private ended = false;
  private waiter: (() => void) | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      this.buffer += data;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => {
      /* a reset from the server shows up as 'close'; tests assert on replies, not on errors */
    });
  }

  /** Connects; does not read the banner (see greeting()). */
  static connect(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<RawSmtpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      const timer = setTimeout(() => (socket.destroy(), reject(new Error('connect timeout'))), timeoutMs);
      socket.once('connect', () => (clearTimeout(timer), resolve(new RawSmtpClient(socket))));
      socket.once('error', (err) => (clearTimeout(timer), reject(err)));
    });
  }

  /** Connects and returns the client with its 220 banner read. */
  static async open(port: number): Promise<{ client: RawSmtpClient; banner: string }> {
    const client = await RawSmtpClient.connect(port);
    return { client, banner: await client.reply() };
  }

  /** Sends bytes exactly as given. */
  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Sends one command line (CRLF added) and returns the reply. */
  async command(line: string, timeoutMs = 5000): Promise<string> {
    this.write(line + '\r\n');
    return this.reply(timeoutMs);
  }

  /** Reads one complete reply (all lines of a multi-line one), e.g. "250-a\r\n250 b". */
  async reply(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.search(/^\d{3} [^\n]*\r\n/m);
      if (end !== -1) {
        const stop = this.buffer.indexOf('\r\n', end) + 2;
        const text = this.buffer.slice(0, stop - 2);
        this.buffer = this.buffer.slice(stop);
        return text;
      }
      if (this.ended) throw new Error(`connection closed while waiting for a reply (got ${JSON.stringify(this.buffer)})`);
      await this.wait(deadline, 'reply');
    }
  }

  /** Resolves true if no reply arrives within ms (used to prove the server is still holding back). */
  async silentFor(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.buffer.length === 0;
  }

  /** Resolves once the server has closed the connection. */
  async closed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) await this.wait(deadline, 'close');
  }

  get isClosed(): boolean {
    return this.ended;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wait(deadline: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`timeout waiting for ${what} (buffer ${JSON.stringify(this.buffer)})`));
      }, Math.max(0, deadline - Date.now()));
      this.waiter = () => (clearTimeout(timer), (this.waiter = null), resolve());
    });
  }

  private wake(): void {
    this.waiter?.();
  }
}
