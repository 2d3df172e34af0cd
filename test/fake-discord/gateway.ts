/**
 * The gateway over `ws` (JSON encoding, no compression): HELLO, heartbeat ACKs, IDENTIFY -> READY,
 * RESUME -> RESUMED (or INVALID_SESSION), and dispatches with increasing sequence numbers.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GatewayDispatchEvents,
  GatewayOpcodes,
  type APIUser,
  type ApplicationFlags,
  type GatewayReadyDispatchData,
  type UserFlags,
} from 'discord-api-types/v10';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { randomAlnum } from './payloads.js';

export interface GatewayOptions {
  botToken: string;
  botUser: APIUser;
  applicationId: string;
  heartbeatIntervalMs: number;
  /** the url sent as resume_gateway_url (set once the server listens) */
  resumeUrl: () => string;
  /** guilds listed (unavailable) in READY */
  guildIds: () => string[];
  /** the GUILD_CREATE payload that follows READY for each of guildIds() */
  guildCreate: (guildId: string) => unknown;
}

interface Session {
  id: string;
  seq: number;
  socket: WebSocket | null;
  /** payloads dispatched while no socket was attached, replayed on RESUME */
  missed: string[];
}

export interface GatewayLogEntry {
  op: number;
  d: unknown;
  at: number;
}

export class FakeGateway {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Map<string, Session>();
  private readonly sockets = new Set<WebSocket>();
  private readyWaiters: Array<() => void> = [];
  /** every op the clients sent (heartbeats included) */
  readonly received: GatewayLogEntry[] = [];
  /** IDENTIFY payloads, in order */
  readonly identifies: unknown[] = [];
  /** false while stopHeartbeatAcks() is in force: heartbeats are received but never ACKed (a zombie connection) */
  private ackHeartbeats = true;

  constructor(private readonly options: GatewayOptions) {}

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.onConnection(ws));
  }

  /** True once a client identified (or resumed) and is connected. */
  get connected(): boolean {
    return this.activeSessions().length > 0;
  }

  /** Resolves when a client is identified and connected. */
  waitForReady(timeoutMs = 5000): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((waiter) => waiter !== done);
        reject(new Error(`fake gateway: no client identified within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.readyWaiters.push(done);
    });
  }

  /** Send a dispatch (op 0) to every identified client; false (nothing sent) when none is connected. */
  tryDispatch(event: string, data: unknown): boolean {
    const sessions = this.activeSessions();
    for (const session of sessions) this.sendDispatch(session, event, data);
    return sessions.length > 0;
  }

  /**
   * Send a dispatch (op 0) to every identified client. A session whose client is reconnecting (closed with a
   * resumable code) queues it, and the RESUME replays it, as on Discord. Throws if there is no session at all.
   */
  dispatch(event: string, data: unknown): void {
    const sessions = this.activeSessions();
    const target = sessions.length > 0 ? sessions : [...this.sessions.values()];
    if (target.length === 0) {
      throw new Error(`fake gateway: cannot dispatch ${event}: no client has identified (await the client's ready event)`);
    }
    for (const session of target) this.sendDispatch(session, event, data);
  }

  /** Ask clients to reconnect (op 7 RECONNECT); discord.js closes (4200) and RESUMEs. */
  requestReconnect(): void {
    for (const socket of this.sockets) this.send(socket, { op: GatewayOpcodes.Reconnect, d: null, s: null, t: null });
  }

  /**
   * Send op 9 INVALID_SESSION with `d = resumable`. Not resumable: the sessions are forgotten (a RESUME gets op 9
   * false again, dispatches stop until a new IDENTIFY).
   */
  invalidateSession(resumable: boolean): void {
    for (const socket of this.sockets) this.send(socket, { op: GatewayOpcodes.InvalidSession, d: resumable, s: null, t: null });
    if (!resumable) this.sessions.clear();
  }

  /** Stop answering heartbeats with op 11 (until resumeHeartbeatAcks): clients see a zombie connection. */
  stopHeartbeatAcks(): void {
    this.ackHeartbeats = false;
  }

  resumeHeartbeatAcks(): void {
    this.ackHeartbeats = true;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private activeSessions(): Session[] {
    return [...this.sessions.values()].filter((session) => session.socket?.readyState === WebSocket.OPEN);
  }

  private send(socket: WebSocket, payload: unknown): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(payload));
  }

  private sendDispatch(session: Session, event: string, data: unknown): void {
    session.seq += 1;
    const text = JSON.stringify({ op: GatewayOpcodes.Dispatch, t: event, s: session.seq, d: data });
    if (session.socket?.readyState === WebSocket.OPEN) session.socket.send(text);
    else session.missed.push(text);
  }

  private onConnection(socket: WebSocket): void {
    this.sockets.add(socket);
    let session: Session | undefined;
    socket.on('close', (code: number) => {
      this.sockets.delete(socket);
      if (session?.socket !== socket) return;
      session.socket = null;
      // like Discord: a client closing with 1000/1001 ends its session (discord.js does on destroy() and after
      // op 9 false); other codes (4200 when discord.js means to resume) keep it resumable
      if (code === 1000 || code === 1001) this.sessions.delete(session.id);
    });
    socket.on('error', () => {
      // a client that vanished: nothing to do, 'close' follows
    });
    socket.on('message', (raw: RawData, isBinary: boolean) => {
      if (isBinary) {
        socket.close(4002, 'Decode error');
        return;
      }
      let payload: { op?: unknown; d?: unknown };
      try {
        payload = JSON.parse(rawToString(raw)) as { op?: unknown; d?: unknown };
      } catch {
        socket.close(4002, 'Decode error');
        return;
      }
      this.received.push({ op: Number(payload.op), d: payload.d, at: Date.now() });
      switch (payload.op) {
        case GatewayOpcodes.Heartbeat:
          if (this.ackHeartbeats) this.send(socket, { op: GatewayOpcodes.HeartbeatAck, d: null, s: null, t: null });
          break;
        case GatewayOpcodes.Identify: {
          const d = (payload.d ?? {}) as { token?: unknown; intents?: unknown };
          this.identifies.push(payload.d);
          if (d.token !== this.options.botToken) {
            socket.close(4004, 'Authentication failed.');
            return;
          }
          if (session !== undefined && this.sessions.get(session.id) === session) {
            socket.close(4005, 'Already authenticated.');
            return;
          }
          session = { id: randomAlnum(32), seq: 0, socket, missed: [] };
          this.sessions.set(session.id, session);
          this.sendDispatch(session, GatewayDispatchEvents.Ready, this.readyData(session.id));
          for (const guildId of this.options.guildIds()) {
            this.sendDispatch(session, GatewayDispatchEvents.GuildCreate, this.options.guildCreate(guildId));
          }
          this.notifyReady();
          break;
        }
        case GatewayOpcodes.Resume: {
          const d = (payload.d ?? {}) as { token?: unknown; session_id?: unknown; seq?: unknown };
          const existing = typeof d.session_id === 'string' ? this.sessions.get(d.session_id) : undefined;
          if (d.token !== this.options.botToken || existing === undefined) {
            this.send(socket, { op: GatewayOpcodes.InvalidSession, d: false, s: null, t: null });
            return;
          }
          session = existing;
          session.socket = socket;
          for (const text of session.missed.splice(0)) socket.send(text);
          this.sendDispatch(session, GatewayDispatchEvents.Resumed, null);
          this.notifyReady();
          break;
        }
        default:
          // presence updates, request guild members, voice state...: accepted and ignored
          break;
      }
    });
    this.send(socket, {
      op: GatewayOpcodes.Hello,
      d: { heartbeat_interval: this.options.heartbeatIntervalMs },
      s: null,
      t: null,
    });
  }

  private notifyReady(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) waiter();
  }

  private readyData(sessionId: string): GatewayReadyDispatchData {
    return {
      v: 10,
      user: { ...this.options.botUser, verified: true, mfa_enabled: false, flags: 0 as UserFlags },
      guilds: this.options.guildIds().map((id) => ({ id, unavailable: true })),
      session_id: sessionId,
      resume_gateway_url: this.options.resumeUrl(),
      shard: [0, 1],
      application: { id: this.options.applicationId, flags: 0 as ApplicationFlags, flags_new: '0' },
    };
  }
}

function rawToString(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  if (raw instanceof ArrayBuffer) return Buffer.from(raw).toString('utf8');
  return raw.toString('utf8');
}
