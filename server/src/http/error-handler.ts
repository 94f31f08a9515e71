import type { Server as HttpServer } from "node:http";
import type { ErrorRequestHandler, NextFunction, Request, Response } from "express";
import { httpStatusOf, MAX_BODY_BYTES, type ErrorResponse } from "@countersign/shared";
import type { Logger } from "pino";
import { AppError } from "../app-error.js";
import { toErrorReply } from "../errors/error-reply.js";

/**
 * The one place an HTTP error becomes a response. An error with a 4xx status is the client's
 * fault (see clientErrorOf); everything else goes through toErrorReply, which the socket
 * acknowledgements share.
 */
export function createErrorHandler(options: {
  logger: Logger;
  isStoreUnavailable: (error: unknown) => boolean;
}): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const clientError = error instanceof AppError ? null : clientErrorOf(error);
    if (clientError !== null) {
      // Debug at most: anyone can send these. And never the error object: body-parser hangs the
      // raw body on it, and the router's message quotes the path back.
      options.logger.debug(
        { code: clientError.code, reason: reasonOf(error), method: req.method, path: req.path },
        "malformed request",
      );
    }
    const reply = toErrorReply(clientError ?? error, {
      isStoreUnavailable: options.isStoreUnavailable,
      logger: options.logger,
      context: { method: req.method, path: req.path },
    });
    if (res.headersSent) return;
    const body: ErrorResponse = { error: reply.body };
    res.status(httpStatusOf(reply.body.code)).set(reply.headers).json(body);
  };
}

/**
 * Our code for an error that carries a 4xx `status` or `statusCode`, the http-errors convention
 * that body-parser, raw-body and Express's router follow for input they cannot read (a body
 * that is not what its Content-Encoding says, an unknown charset, a broken %-escape in a path
 * parameter, an upload cut short); null for anything else. The one place that decides what
 * such an error is called. Messages are ours: theirs quote the input back.
 */
function clientErrorOf(error: unknown): AppError | null {
  const status = statusOf(error);
  if (status === null || status < 400 || status > 499) return null;
  const type = typeOf(error);
  if (status === 413) {
    return new AppError("PAYLOAD_TOO_LARGE", `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
  }
  if (status === 415) {
    return type === "encoding.unsupported"
      ? new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the request body uncompressed, or as gzip, deflate or br.")
      : new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the request body as UTF-8 JSON.");
  }
  if (status === 404) return new AppError("NOT_FOUND", "Not found.");
  if (type === "entity.parse.failed") return new AppError("INVALID_JSON", "The request body is not valid JSON.");
  if (error instanceof URIError) {
    return new AppError("MALFORMED_REQUEST", "The request path has a broken %-escape.");
  }
  if (type === "request.aborted" || type === "request.size.invalid") {
    return new AppError("MALFORMED_REQUEST", "The request body ended before its Content-Length.");
  }
  if (type === undefined && codeOf(error) !== undefined) {
    // Untyped with a code: zlib's own error, passed on by body-parser for an undecodable body.
    return new AppError("MALFORMED_REQUEST", "The request body is not what its Content-Encoding says.");
  }
  return new AppError("MALFORMED_REQUEST", "The request could not be read.");
}

function statusOf(error: unknown): number | null {
  if (typeof error !== "object" || error === null) return null;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === "number" ? status : statusCode;
  return typeof value === "number" && Number.isInteger(value) ? value : null;
}

/** body-parser's and raw-body's name for what went wrong, e.g. "entity.parse.failed". */
function typeOf(error: unknown): string | undefined {
  const type = (error as { type?: unknown }).type;
  return typeof type === "string" ? type : undefined;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** What to log about a client error: a library's short name for it, never its message. */
function reasonOf(error: unknown): string {
  return typeOf(error) ?? codeOf(error) ?? (error instanceof Error ? error.name : "unknown");
}

/**
 * Requests Node's own HTTP parser refuses (raw bytes in the path, control characters in a header,
 * a broken chunked body, headers too large) never reach Express; Node would answer a bare
 * "400 Bad Request". They get the same JSON error as everything else, then the connection
 * closes, since the parser cannot tell where the next request would start.
 */
export function answerUnparsableRequests(server: HttpServer): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || error.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
    const code = tooLarge ? "HEADERS_TOO_LARGE" : "MALFORMED_REQUEST";
    const body: ErrorResponse = {
      error: {
        code,
        message: tooLarge ? "The request headers are too large." : "The request could not be read.",
      },
    };
    const json = JSON.stringify(body);
    const status = httpStatusOf(code);
    socket.end(
      `HTTP/1.1 ${status} ${tooLarge ? "Request Header Fields Too Large" : "Bad Request"}\r\n` +
        "Content-Type: application/json; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(json)}\r\n` +
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n" +
        json,
    );
  });
}
