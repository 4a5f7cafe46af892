import assert from "node:assert/strict";
import { launchBrowser } from "./browser.ts";
import { createFixtureApp } from "./fixture_app.ts";

Deno.test({
  name: "[fresh] islands hydrate in Chromium and share one signal",
  async fn() {
    const { app } = await createFixtureApp();
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() === "error" || msg.type() === "warning") {
          problems.push(`${msg.type()}: ${msg.text()}`);
        }
      });
      page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
      page.on("response", (res) => {
        if (res.status() >= 400) problems.push(`${res.status()} ${res.url()}`);
      });

      await page.goto(`http://127.0.0.1:${server.addr.port}/islands`);
      // DateView's effect only runs after hydration with revived props.
      await page.waitForFunction(() => document.querySelector("#date-client")?.textContent !== "pending");
      assert.equal(await page.textContent("#date-client"), "2024|1,2,255");
      assert.equal(await page.textContent("#count"), "count:3");

      await page.click("#inc");
      await page.waitForFunction(() => document.querySelector("#count")?.textContent === "count:4");
      await page.click("#inc");
      await page.waitForFunction(() => document.querySelector("#count")?.textContent === "count:5");

      // A class the island only adds after the click is styled.
      assert.equal(await page.getAttribute("#inc", "class"), "px-2 bg-green-600");
      const background = await page.evaluate(() => getComputedStyle(document.querySelector("#inc")!).backgroundColor);
      assert.equal(background, "rgb(22, 163, 74)");

      // The nested island is interactive as part of its parent.
      await page.click("#inner");
      await page.waitForFunction(() => document.querySelector("#inner")?.textContent === "inner:2");

      // An island that rendered nothing on the server fills its own slot.
      await page.waitForSelector("#later");
      assert.equal(
        await page.evaluate(() => {
          const later = document.querySelector("#later")!;
          return later.nextElementSibling?.id;
        }),
        "after",
      );

      // Hydration reused the server DOM: markers still surround each island.
      const html = await page.content();
      assert.match(html, /<!--frsh-CountView:1--><output id="count">count:5<\/output><!--\/frsh-CountView:1-->/);

      // The island-free page loads no JavaScript at all.
      const scripts: string[] = [];
      page.on("request", (req) => {
        if (req.resourceType() === "script") scripts.push(req.url());
      });
      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      assert.equal(await page.evaluate(() => document.scripts.length), 0);
      assert.deepEqual(scripts, []);

      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});

Deno.test("[fresh] launchBrowser names the missing chromium path", async () => {
  const previous = Deno.env.get("CHROMIUM_PATH");
  Deno.env.set("CHROMIUM_PATH", "/nonexistent/chromium");
  try {
    await assert.rejects(launchBrowser(), {
      message: "chromium not found at /nonexistent/chromium; install Debian package chromium",
    });
  } finally {
    if (previous === undefined) Deno.env.delete("CHROMIUM_PATH");
    else Deno.env.set("CHROMIUM_PATH", previous);
  }
});
