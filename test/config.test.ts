/** Configuration: validated once at start, with messages that say what to fix. */
import { expect, it } from "vitest";
import { ConfigError, describeSettings, loadConfig } from "../src/config.ts";

it("uses documented defaults: embedded database in ./data on port 4000", () => {
  const config = loadConfig({});
  expect(config).toMatchObject({ port: 4000, host: "127.0.0.1", embedded: true, heartbeatDegradedAfter: 30, heartbeatUnresponsiveAfter: 120, maxPageSize: 100 });
  expect(config.dataDir.endsWith("/data")).toBe(true);
});

it("switches to PostgreSQL when DATABASE_URL is set", () => {
  const config = loadConfig({ DATABASE_URL: "postgres://u@localhost:5432/db" });
  expect(config.embedded).toBe(false);
});

it("lists every invalid setting at once, naming the variable", () => {
  let error: unknown;
  try {
    loadConfig({ PORT: "eighty", DATABASE_URL: "mysql://x", JWT_SECRET: "short", LOG_LEVEL: "loud" });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as Error).message;
  for (const name of ["PORT", "DATABASE_URL", "JWT_SECRET", "LOG_LEVEL"]) expect(message).toContain(name);
  expect(message).toContain("postgres://");
});

it("requires JWT_SECRET in production and consistent heartbeat thresholds", () => {
  expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/JWT_SECRET is required/);
  expect(() => loadConfig({ HEARTBEAT_DEGRADED_AFTER_SECONDS: "60", HEARTBEAT_UNRESPONSIVE_AFTER_SECONDS: "30" })).toThrow(/greater than/);
});

it("documents every setting", () => {
  for (const row of describeSettings()) expect(row.doc.length).toBeGreaterThan(10);
});

it("README's configuration table lists every setting", async () => {
  const fs = await import("node:fs");
  const readme = fs.readFileSync(new URL("../README.md", import.meta.url), "utf8");
  for (const row of describeSettings()) expect(readme).toContain(`| \`${row.env}\` |`);
});

it("never prints a secret or a URL's password in a configuration error", () => {
  const messageOf = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("expected a ConfigError");
  };
  const short = messageOf({ JWT_SECRET: "hunter2-too-short" });
  expect(short).toContain("JWT_SECRET");
  expect(short).not.toContain("hunter2");
  for (const url of ["mysql://admin:hunter2@db.internal/app", "postgres://admin:hunter2@db.internal:notaport/app", "redis://:hunter2@cache:badport"]) {
    const message = messageOf(url.startsWith("redis") ? { REDIS_URL: url } : { DATABASE_URL: url });
    expect(message).toMatch(/DATABASE_URL|REDIS_URL/);
    expect(message).not.toContain("hunter2");
  }
});

it("limits introspection to authenticated callers in production unless INTROSPECTION says otherwise", () => {
  const secret = "x".repeat(32);
  expect(loadConfig({}).introspection).toBe("on");
  expect(loadConfig({ NODE_ENV: "production", JWT_SECRET: secret }).introspection).toBe("authenticated");
  expect(loadConfig({ NODE_ENV: "production", JWT_SECRET: secret, INTROSPECTION: "off" }).introspection).toBe("off");
  expect(() => loadConfig({ INTROSPECTION: "sometimes" })).toThrow(/INTROSPECTION/);
});
