import { asThePageSendsIt, rememberDesktopKey } from "./desktop-key.js";

/** A desktop Chrome on macOS and a phone, as the server will describe them. */
export const DESKTOP_UA =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
export const PHONE_UA =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * A browser stand-in: real HTTP with fetch, the Origin header a browser would send, and a
 * cookie jar, so each test can play a desktop and a phone side by side.
 */
export class HttpClient {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    readonly options: {
      userAgent: string;
      origin?: string | null;
      /** Sent with every request, e.g. the X-Forwarded-For a proxy in front would add. */
      headers?: Record<string, string>;
    },
  ) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  async request<T = unknown>(
    method: string,
    path: string,
    init: { json?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> =
      this.options.userAgent === "" ? {} : { "user-agent": this.options.userAgent };
    const origin = this.options.origin === undefined ? this.baseUrl : this.options.origin;
    if (origin !== null) headers.origin = origin;
    if (this.cookies.size > 0) headers.cookie = this.cookieHeader;
    let body: string | undefined;
    // What the desktop page adds on its own: its key when it creates a request, a proof to redeem.
    const sent =
      init.json === undefined
        ? { json: undefined, created: null }
        : await asThePageSendsIt({ origin: this.baseUrl, method, path, json: init.json });
    if (sent.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(sent.json);
    } else if (init.rawBody !== undefined) {
      body = init.rawBody;
    }
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { ...headers, ...this.options.headers, ...init.headers },
      ...(body === undefined ? {} : { body }),
      redirect: "manual",
    });
    for (const cookie of response.headers.getSetCookie()) this.storeCookie(cookie);
    const text = await response.text();
    const isJson = response.headers.get("content-type")?.includes("application/json") ?? false;
    const parsed = (isJson && text !== "" ? JSON.parse(text) : text) as T;
    const loginId = (parsed as { login?: { id?: unknown } } | null)?.login?.id;
    if (sent.created !== null && response.status === 201 && typeof loginId === "string") {
      rememberDesktopKey(loginId, sent.created);
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  post<T = unknown>(path: string, json: unknown = {}): Promise<ApiResponse<T>> {
    return this.request<T>("POST", path, { json });
  }

  get<T = unknown>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>("GET", path);
  }

  delete<T = unknown>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>("DELETE", path);
  }

  private storeCookie(setCookie: string): void {
    const [pair, ...attributes] = setCookie.split(";");
    const index = pair!.indexOf("=");
    const name = pair!.slice(0, index).trim();
    const value = pair!.slice(index + 1).trim();
    const expired = attributes.some((attribute) => /^\s*expires=Thu, 01 Jan 1970/i.test(attribute));
    if (value === "" || expired) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}
