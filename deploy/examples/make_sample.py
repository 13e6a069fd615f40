"""Write the demo's sample stream: quiet day, then a boycott storm on a partner.

Deterministic (seeded), so the committed sample can be regenerated exactly:

    .venv/bin/python deploy/examples/make_sample.py > deploy/examples/sample-mentions.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys

START = 1_767_596_400  # Monday 2026-01-05 07:00 UTC
QUIET = [
    "Anyone know how the work programme placements are assigned this year?",
    "Picked up a few things at Acme Stores on the way home",
    "Universal credit payment came through on time this month, thank you",
    "DWP helpline was busy but sorted my query in the end",
    "Article on the workfare scheme in today's paper, interesting read",
    "acme has a new shop opening on the high street",
    "My appointment about universal credit is on Thursday",
    "The work programme adviser was helpful today, great support",
]
# Storm posts are composed from parts, so that (as in a real storm) many people
# say the same thing in their own words rather than pasting one text.
STORM_OPEN = ["Just found out", "Can't believe", "So", "Unbelievable:", "Wow.", "Reminder:",
              "Shocked that", "Apparently", "Heard today that", "Did you know"]
STORM_CLAIM = [
    "Acme Stores uses #workfare to get free labour",
    "acme makes jobseekers stack shelves for nothing on the work programme",
    "@acmestores is profiting from unpaid workfare placements",
    "Acme is in the work programme and pays people nothing",
    "acme stores has people working unpaid under mandatory work activity",
    "the work programme sends claimants to work at Acme for free",
]
STORM_VERDICT = ["Disgraceful.", "Shameful.", "Absolutely awful.", "Disgusting.",
                 "This is exploitation.", "I'm furious.", "Terrible.", "Appalling."]
STORM_CALL = ["Boycott them.", "Stop shopping at Acme.", "Sign the petition.",
              "Never shopping there again.", "Protest on Saturday.", "#boycottacme",
              "Share this.", ""]
MALFORMED = [
    "this is not json",
    '{"id": "bad-1", "platform": "twitter", "author": "@x", "text": "no timestamp"}',
    '{"id": "bad-2", "ts": "2026-01-05T10:00:00Z", "platform": "twitter",'
    ' "author": "@x", "text": 42}',
    "[1, 2, 3]",
    '{"id": "bad-3", "ts": "2099-01-01T00:00:00Z", "platform": "twitter",'
    ' "author": "@x", "text": "from the future"}',
]


def generate(quiet_hours: float, seed: int) -> list[str]:
    rng = random.Random(seed)
    lines: list[str] = []
    n = 0

    def mention(ts: float, text: str, storm: bool) -> str:
        nonlocal n
        n += 1
        author = f"@{'activist' if storm else 'resident'}{rng.randrange(4000 if storm else 900)}"
        followers = rng.choice([40, 120, 300, 800, 2_000]) if rng.random() > 0.02 else 250_000
        # A link to the post, so the incident page can link to it (an example domain).
        return json.dumps({"id": f"s{n}", "ts": round(ts, 3), "platform": "twitter",
                           "author": author, "author_followers": followers, "text": text,
                           "lang": "en", "url": f"https://social.example/{author[1:]}/{n}"})

    quiet_end = START + quiet_hours * 3600
    ts = float(START)
    while ts < quiet_end + 40 * 60:  # quiet chatter continues through the storm
        ts += rng.expovariate(4 / 60)  # about four quiet mentions a minute overall
        lines.append(mention(ts, rng.choice(QUIET), storm=False))
    # The storm: from about 1 to about 60 mentions a minute over 20 minutes, then held.
    t = quiet_end
    while t < quiet_end + 40 * 60:
        minutes = (t - quiet_end) / 60
        rate = min(60.0, 1.0 + 3.0 * minutes) / 60
        t += rng.expovariate(rate)
        text = " ".join(filter(None, (rng.choice(STORM_OPEN), rng.choice(STORM_CLAIM),
                                      rng.choice(STORM_VERDICT), rng.choice(STORM_CALL))))
        lines.append(mention(t, text, storm=True))
    lines.sort(key=lambda line: json.loads(line)["ts"])
    for i, bad in enumerate(MALFORMED):  # sprinkled through the stream
        lines.insert((i + 1) * len(lines) // (len(MALFORMED) + 1), bad)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet-hours", type=float, default=26.0,
                        help="hours of ordinary chatter before the storm (baseline warm-up)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sys.stdout.write("\n".join(generate(args.quiet_hours, args.seed)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
