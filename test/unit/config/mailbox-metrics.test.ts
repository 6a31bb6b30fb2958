/** mailbox.preset selects the whole mail command set; an explicit mailbox.* key still wins. */
import { describe, expect, test } from "bun:test";
import { configError, load, useConfigTown, writeConfig } from "./helpers.ts";

useConfigTown();

describe("mailbox.preset", () => {
  test("default bd: the original's commands, all from the default", () => {
    const { config, layers } = load();
    expect(config.mailbox).toEqual({
      preset: "bd",
      inbox: ["bd", "mail", "inbox", "--identity", "deacon/", "--json"],
      close: ["bd", "close", "{id}"],
      send: ["bd", "mail", "send", "{to}", "-s", "{subject}", "-m", "{body}"],
      sync: ["bd", "sync"],
    });
    expect(layers.sources["mailbox.close"]).toBe("default");
  });

  test("gt: gt mail inbox/delete/send, each shown as coming from the preset", () => {
    writeConfig({ mailbox: { preset: "gt" } });
    const { config, layers } = load();
    expect(config.mailbox).toEqual({
      preset: "gt",
      inbox: ["gt", "mail", "inbox", "--identity", "deacon/", "--json"],
      close: ["gt", "mail", "delete", "{id}"],
      send: ["gt", "mail", "send", "{to}", "-s", "{subject}", "-m", "{body}"],
      sync: ["bd", "sync"],
    });
    expect(layers.sources["mailbox.preset"]).toBe("config.json");
    expect(layers.sources["mailbox.inbox"]).toBe("preset gt");
    expect(layers.sources["mailbox.close"]).toBe("preset gt");
  });

  test("an explicit key overrides the preset, from the file or the environment", () => {
    writeConfig({ mailbox: { preset: "gt", close: ["my-close", "{id}"] } });
    const { config, layers } = load({ GTD_MAILBOX_SYNC: "null" });
    expect(config.mailbox.close).toEqual(["my-close", "{id}"]);
    expect(layers.sources["mailbox.close"]).toBe("config.json");
    expect(config.mailbox.sync).toBeNull();
    expect(config.mailbox.inbox[0]).toBe("gt");
  });

  test("GTD_MAILBOX_PRESET=gt works like the file; an unknown preset is refused naming the forms", () => {
    expect(load({ GTD_MAILBOX_PRESET: "gt" }).config.mailbox.close).toEqual(["gt", "mail", "delete", "{id}"]);
    writeConfig({ mailbox: { preset: "beads" } });
    const err = configError(() => load());
    expect(err.message).toContain('mailbox.preset = "beads" is not valid');
    expect(err.hint).toBe('expected "bd" (bd mail) or "gt" (gt mail)');
  });
});

describe("metrics.file", () => {
  test("off by default; a .prom path is taken; anything else is refused (agents can edit config.json)", () => {
    expect(load().config.metrics.file).toBeNull();
    writeConfig({ metrics: { file: "/var/lib/node_exporter/textfile_collector/gtd.prom" } });
    expect(load().config.metrics.file).toBe("/var/lib/node_exporter/textfile_collector/gtd.prom");
    writeConfig({ metrics: { file: "/home/me/.bashrc" } });
    expect(configError(() => load()).hint).toBe('expected a path ending in ".prom" (relative paths are from the town root), or null for none');
  });
});
