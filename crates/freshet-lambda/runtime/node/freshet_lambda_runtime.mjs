// SPDX-License-Identifier: Apache-2.0
// Freshet's Node.js runtime client: runs a Lambda handler against the Lambda Runtime API.
//
// Standard library only. Behaves like aws-lambda-ric (the AWS Node.js runtime interface
// client): handler strings `[dir/]file.export[.nested]` loaded as CommonJS or ES modules
// (`.js` honouring package.json "type", `.mjs`, `.cjs`), async, callback and sync handlers
// with callbackWaitsForEmptyEventLoop, the context object, init errors
// (Runtime.ImportModuleError, Runtime.HandlerNotFound, ...), error documents
// `{errorType, errorMessage, trace}`, and console lines
// `<ISO time>\t<request id>\t<LEVEL>\t<message>` with inner newlines written as "\r" so
// that one console call is one log event.
//
// Usage: node freshet_lambda_runtime.mjs <handler>, with AWS_LAMBDA_RUNTIME_API set.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import util from "node:util";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const API = process.env.AWS_LAMBDA_RUNTIME_API || "";
const [HOST, PORT] = API.split(":");
const ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type";

// ---- errors -------------------------------------------------------------------------------

class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const cls of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  UnhandledPromiseRejection,
]) {
  cls.prototype.name = `Runtime.${cls.name}`;
}

function isErrorLike(e) {
  return (
    e &&
    typeof e.name === "string" &&
    typeof e.message === "string" &&
    typeof e.stack === "string"
  );
}

function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name?.replace(/\x7F/g, "%7F"),
        errorMessage: error.message?.replace(/\x7F/g, "%7F"),
        trace: error.stack.replace(/\x7F/g, "%7F").split("\n"),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch (_e) {
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack",
    };
  }
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

function withEnumerableProperties(error) {
  if (error instanceof Error) {
    const ret = Object.assign(
      { errorType: error.name, errorMessage: error.message, code: error.code },
      error,
    );
    if (typeof error.stack === "string") {
      ret.stack = error.stack.split("\n");
    }
    return ret;
  }
  return error;
}

function toFormatted(error) {
  try {
    return "\t" + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch (_e) {
    return "\t" + JSON.stringify(toRapidResponse(error));
  }
}

// ---- console ------------------------------------------------------------------------------

let currentRequestId = undefined;

function patchConsole() {
  const write = (level) => (message, ...params) => {
    const line = `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(
      message,
      ...params,
    )}`;
    process.stdout.write(line.replace(/\n/g, "\r") + "\n");
  };
  const levels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
  const wanted = levels.indexOf((process.env.AWS_LAMBDA_LOG_LEVEL || "TRACE").toUpperCase());
  const min = wanted < 0 ? 0 : wanted;
  const nop = () => {};
  const at = (level) => (levels.indexOf(level) >= min ? write(level) : nop);
  console.trace = at("TRACE");
  console.debug = at("DEBUG");
  console.info = at("INFO");
  console.log = console.info;
  console.warn = at("WARN");
  console.error = at("ERROR");
  console.fatal = write("FATAL");
}

function logError(title, err) {
  console.error(title, toFormatted(intoError(err)));
}

// ---- Runtime API --------------------------------------------------------------------------

function request(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port: Number(PORT), path: urlPath, method, headers, agent: false },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ res, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (body !== undefined) {
      req.write(body);
    }
    req.end();
  });
}

function serialize(response) {
  try {
    return JSON.stringify(response === undefined ? null : response);
  } catch (_e) {
    throw new Error("Unable to stringify response body");
  }
}

function post(urlPath, body, headers) {
  return request("POST", urlPath, body, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    ...headers,
  });
}

const client = {
  async next() {
    const { res, body } = await request("GET", "/2018-06-01/runtime/invocation/next");
    if (res.statusCode !== 200) {
      throw new Error(`Failed to get next invocation: ${res.statusCode}`);
    }
    return { bodyJson: body.toString("utf8"), headers: res.headers };
  },
  postResponse(result, id) {
    return post(
      `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/response`,
      serialize(result),
    );
  },
  postError(error, id) {
    return post(
      `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/error`,
      JSON.stringify(toRapidResponse(error)),
    );
  },
  postInitError(error) {
    const doc = toRapidResponse(error);
    return post("/2018-06-01/runtime/init/error", JSON.stringify(doc), {
      [ERROR_TYPE_HEADER]: doc.errorType,
    });
  },
};

// ---- loading the handler ------------------------------------------------------------------

function hasTypeModule(folder) {
  if (folder.endsWith("/node_modules")) return false;
  const pj = path.join(folder, "package.json");
  if (fs.existsSync(pj)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(pj));
      if (pkg) return pkg.type === "module";
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === "/") return false;
  return hasTypeModule(path.resolve(folder, ".."));
}

async function tryLoad(appRoot, moduleRoot, module) {
  const require = createRequire(path.join(appRoot, "noop.js"));
  const base = path.resolve(appRoot, moduleRoot, module);
  const requireIf = (file) => (fs.existsSync(file) ? require(file) : undefined);
  const importIf = async (file) =>
    fs.existsSync(file) ? await import(pathToFileURL(file).href) : undefined;
  const extensionless = requireIf(base);
  if (extensionless) return extensionless;
  const typeModule = fs.existsSync(base + ".js") && hasTypeModule(path.dirname(base + ".js"));
  if (!typeModule) {
    const js = requireIf(base + ".js");
    if (js) return js;
  }
  const loaded =
    (typeModule && (await importIf(base + ".js"))) ||
    (await importIf(base + ".mjs")) ||
    requireIf(base + ".cjs");
  if (loaded) return loaded;
  return require(require.resolve(module, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes("..")) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match || match.length !== 3) {
    throw new MalformedHandlerName("Bad handler");
  }
  const [, module, handlerPath] = match;
  let app;
  try {
    app = await tryLoad(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e.code !== undefined && e.code === "MODULE_NOT_FOUND") throw new ImportModuleError(e);
    throw e;
  }
  const fn = handlerPath.split(".").reduce((o, k) => o && o[k], app);
  if (!fn) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof fn !== "function") throw new HandlerNotFound(`${fullHandler} is not a function`);
  return fn;
}

// ---- the invoke loop ----------------------------------------------------------------------

// What `beforeExit` does: complete a callback handler once the event loop is empty.
let beforeExit = () => {};
process.on("beforeExit", () => beforeExit());

let errorCallbacks = {
  uncaughtException: (error) => {
    client.postInitError(error).finally(() => process.exit(129));
  },
  unhandledRejection: (error) => {
    client.postInitError(error).finally(() => process.exit(128));
  },
};

function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

function buildContext(headers, id, scheduleNext) {
  let waitForEmptyEventLoop = true;
  let completed = false;
  let finished = false;
  const complete = (result) => {
    if (completed) {
      console.error(
        "Invocation has already been reported as done. Cannot call complete more than once per invocation.",
      );
      return;
    }
    completed = true;
    client.postResponse(result, id).then(scheduleNext, fatal);
  };
  const postError = (err) => {
    completed = true;
    logError("Invoke Error", err);
    client.postError(err, id).then(scheduleNext, fatal);
  };
  const once = (fn) =>
    function (...args) {
      if (!finished) {
        finished = true;
        fn(...args);
      }
    };
  const done = (err, result) => {
    beforeExit = () => {};
    if (err !== undefined && err !== null) postError(err);
    else complete(result);
  };
  const callback = (err, result) => {
    beforeExit = () => {};
    if (err !== undefined && err !== null) {
      postError(err);
    } else if (!waitForEmptyEventLoop) {
      complete(result);
    } else {
      beforeExit = () => {
        beforeExit = () => {};
        setImmediate(() => complete(result));
      };
    }
  };
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(v) {
      waitForEmptyEventLoop = v;
    },
    succeed: once((result) => done(null, result)),
    fail: once((err) => (err === undefined || err === null ? done("handled") : done(err, null))),
    done: once(done),
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseJsonHeader(headers["lambda-runtime-client-context"], "ClientContext"),
    identity: parseJsonHeader(headers["lambda-runtime-cognito-identity"], "CognitoIdentity"),
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    awsRequestId: id,
    tenantId: headers["lambda-runtime-aws-tenant-id"],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  // A handler that neither returns a promise nor calls back answers null once the event
  // loop is empty.
  beforeExit = () => {
    beforeExit = () => {};
    completed = true;
    client.postResponse(null, id).then(scheduleNext, fatal);
  };
  return [once(callback), context];
}

// Ends this process and anything the handler started in its process group. A group whose id
// is our pid is ours (Freshet starts us as its leader); otherwise there is no such group and
// the kill fails harmlessly.
function exitWithGroup() {
  try {
    process.kill(-process.pid, "SIGKILL");
  } catch (_e) {
    // Not a group leader.
  }
  process.exit(129);
}

// The Runtime API refusing or dropping connections means the server is gone.
const GONE = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE"]);

function fatal(err) {
  if (err && GONE.has(err.code)) {
    exitWithGroup();
  }
  console.log(`Unexpected Top Level Error: ${err && err.toString()}`);
  process.exit(129);
}

// A server killed with SIGKILL cannot stop its handler processes; this one is then
// re-parented, so process.ppid changes. Checked every second on an unref'd timer, which
// never keeps the event loop alive by itself.
function watchParent() {
  const parent = process.ppid;
  if (parent <= 1) return;
  setInterval(() => {
    if (process.ppid !== parent) exitWithGroup();
  }, 1000).unref();
}

function isPromise(o) {
  return o && o.then && typeof o.then === "function";
}

async function handleOnce(handler) {
  const { bodyJson, headers } = await client.next();
  const id = headers["lambda-runtime-aws-request-id"];
  currentRequestId = id;
  if (headers["lambda-runtime-trace-id"]) {
    process.env._X_AMZN_TRACE_ID = headers["lambda-runtime-trace-id"];
  } else {
    delete process.env._X_AMZN_TRACE_ID;
  }
  const scheduleNext = () => setImmediate(() => handleOnce(handler).catch(fatal));
  errorCallbacks = {
    uncaughtException: (error) => {
      client.postError(error, id).finally(() => process.exit(129));
    },
    unhandledRejection: (error) => {
      client.postError(error, id).finally(() => process.exit(128));
    },
  };
  let callback;
  let context;
  try {
    [callback, context] = buildContext(headers, id, scheduleNext);
    const result = handler(JSON.parse(bodyJson), context, callback);
    if (isPromise(result)) {
      result.then(context.succeed, context.fail).catch(context.fail);
    }
  } catch (err) {
    if (callback) {
      callback(err);
    } else {
      logError("Invoke Error", err);
      client.postError(err, id).then(scheduleNext, fatal);
    }
  }
}

async function main() {
  watchParent();
  patchConsole();
  process.on("uncaughtException", (error) => {
    logError("Uncaught Exception", error);
    errorCallbacks.uncaughtException(error);
  });
  process.on("unhandledRejection", (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError("Unhandled Promise Rejection", error);
    errorCallbacks.unhandledRejection(error);
  });
  const handlerName = process.argv[2];
  if (!handlerName) throw new Error("No handler specified");
  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let handler;
  try {
    handler = await loadHandler(appRoot, handlerName);
  } catch (error) {
    logError("Uncaught Exception", error);
    await client.postInitError(error).catch(() => {});
    process.exit(129);
  }
  setImmediate(() => handleOnce(handler).catch(fatal));
}

main();
