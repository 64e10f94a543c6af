/** The EC2 XML writer: element rules, escaping, lazy lists, and cached fragments. */
import { describe, expect, it } from "vitest";
import { FragmentCache, lazyList, renderError, renderResponse } from "../../../src/api/ec2/xml";

const xml = (b: Buffer) => b.toString("utf8");

describe("EC2 XML", () => {
  it("writes the response envelope, nested objects, item lists, empty lists and strings as <x/>, and escapes text", () => {
    const out = xml(
      renderResponse("DescribeThings", "2016-11-15", "req-1", {
        thingSet: [{ name: "a<b>&'\"", on: true, n: 3, when: new Date(0), none: undefined, empty: "" }],
        emptySet: [],
      }),
    );
    expect(out).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeThingsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>' +
        "<thingSet><item><name>a&lt;b&gt;&amp;&apos;&quot;</name><on>true</on><n>3</n><when>1970-01-01T00:00:00.000Z</when><empty/></item></thingSet><emptySet/></DescribeThingsResponse>",
    );
    expect(xml(renderError("InvalidX", "bad & worse", "r"))).toContain("<Message>bad &amp; worse</Message>");
  });

  it("lazy lists make their items as they are written", () => {
    let made = 0;
    const list = lazyList([1, 2, 3], (i) => (made++, { i }));
    expect(made).toBe(0);
    expect(xml(renderResponse("X", "2016-11-15", "r", { set: list }))).toContain(
      "<set><item><i>1</i></item><item><i>2</i></item><item><i>3</i></item></set>",
    );
    expect(made).toBe(3);
    expect(xml(renderResponse("X", "2016-11-15", "r", { set: lazyList([], (i) => i) }))).toContain("<set/>");
  });

  it("a cached fragment is rendered once per version, and re-rendered when its version changes", () => {
    const cache = new FragmentCache(2);
    let renders = 0;
    const item = (state: string) => cache.get("i-1", state, () => (renders++, { instanceState: state }));
    const a = item("pending");
    expect(item("pending")).toBe(a);
    expect(renders).toBe(1);
    expect(item("running").xml).toBe("<item><instanceState>running</instanceState></item>");
    expect(renders).toBe(2);
    cache.get("i-2", "x", () => ({}));
    cache.get("i-3", "x", () => ({})); // past the bound: starts over
    item("running");
    expect(renders).toBe(3);
    expect(xml(renderResponse("X", "2016-11-15", "r", { set: [a] }))).toContain(
      "<set><item><instanceState>pending</instanceState></item></set>",
    );
  });
});
