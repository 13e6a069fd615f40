"""The demo's last step: the duty officer acknowledges an incident from its page, in Chromium.

Drives Debian's chromium (installed by deploy/local/test-tools.sh) with
Playwright, as the browser tests do: sign in with the pages' token, open the
incident page, type the officer's name, press Acknowledge, and wait for the
worker's answer. Prints the answer, saves screenshots of the answer and of the
incident page afterwards, and exits 0 only if the worker recorded it.

    demo_ack.py --url http://127.0.0.1:8088 --token-file T --incident ID --by NAME \
                --screenshot out.png
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the pages, e.g. http://127.0.0.1:8088")
    parser.add_argument("--token-file", required=True, help="file holding the pages' token")
    parser.add_argument("--incident", required=True, help="incident id to acknowledge")
    parser.add_argument("--by", default="duty-officer", help="the officer's name")
    parser.add_argument("--screenshot", required=True, help="PNG of the answer page")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="browser binary")
    args = parser.parse_args(argv)
    if not os.access(args.chromium, os.X_OK):
        print(f"demo: {args.chromium} not found; run deploy/local/test-tools.sh",
              file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    token = Path(args.token_file).read_text().strip()
    shot = Path(args.screenshot)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 760})
            page.set_default_timeout(30_000)
            page.goto(f"{args.url}/incidents/{args.incident}")  # sent to /login first
            page.fill("input[name=token]", token)
            page.click("button[type=submit]")
            page.wait_for_url(f"**/incidents/{args.incident}")
            form = page.locator("form.ack")
            if form.count() == 0:
                print(f"demo: {args.incident} shows no Acknowledge button (already"
                      f" acknowledged?): {page.inner_text('section.actions')[:300]}",
                      file=sys.stderr)
                return 1
            form.locator("input[name=by]").fill(args.by)
            form.scroll_into_view_if_needed()
            page.screenshot(path=str(shot.with_name(shot.stem + "-before.png")))
            form.locator("button.ack").click()
            answer = page.locator("[data-outcome], p.pending, p.error").first
            answer.wait_for()
            text = answer.inner_text()
            outcome = answer.get_attribute("data-outcome") or "no answer"
            page.screenshot(path=str(shot))
            page.goto(f"{args.url}/incidents/{args.incident}#actions")
            page.screenshot(path=str(shot.with_name(shot.stem + "-after.png")), full_page=False)
        finally:
            browser.close()
    print(f"demo: Chromium pressed Acknowledge on {args.url}/incidents/{args.incident} as"
          f" {args.by}; the page answered: {text}")
    print(f"demo: screenshots: {shot} (the answer), {shot.stem}-before.png and"
          f" {shot.stem}-after.png beside it")
    return 0 if outcome == "recorded" else 1


if __name__ == "__main__":
    sys.exit(main())
