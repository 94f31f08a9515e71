import { describe, expect, it } from "vitest";
import { createEventChannel } from "./event-channel.js";

describe("createEventChannel", () => {
  it("runs listeners in subscription order and waits for each before publish resolves", async () => {
    const channel = createEventChannel<number>();
    const seen: string[] = [];
    channel.subscribe(async (value) => {
      await Promise.resolve();
      seen.push(`a${value}`);
    });
    channel.subscribe((value) => void seen.push(`b${value}`));
    await channel.publish(1);
    expect(seen).toEqual(["a1", "b1"]);
  });

  it("passes a listener's failure to the publisher", async () => {
    const channel = createEventChannel<string>();
    channel.subscribe(() => {
      throw new Error("store down");
    });
    await expect(channel.publish("x")).rejects.toThrow("store down");
  });
});
