"""Words of the generated posts and names of the generated entities, one set per variant.

The ``tuned`` set is what the detector may be tuned on; the ``holdout`` set
is written apart (other names, other phrasings, other emoji, reshares without
an ``RT`` prefix) so that a detector that learned the tuned words by heart
shows it. Hostile posts come in the styles the issue names, most of which a
sentence-sentiment model scores low: explicit abuse, sarcasm, demands, and
bewildered questions; plus reshares of the post at the centre of a storm.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VOCABULARIES", "Names", "Vocabulary"]


@dataclass(frozen=True, slots=True)
class Names:
    """Pools that entity names are drawn from."""

    person_title: str
    first_female: tuple[str, ...]
    first_male: tuple[str, ...]
    surnames: tuple[str, ...]
    brands: tuple[str, ...]
    brand_suffixes: tuple[str, ...]
    policy_heads: tuple[str, ...]
    policy_tails: tuple[str, ...]
    department_pattern: str  # "{x}" is replaced by the remit
    remits: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Templates per style. ``{n}`` is a way to name the entity, ``{t}`` its name as a
    hashtag word, ``{p}`` its pronoun, ``{h}`` the handle of the central post's author,
    ``{x}`` the central post's text."""

    openers: tuple[str, ...]
    fillers: tuple[str, ...]
    neutral: tuple[str, ...]
    positive: tuple[str, ...]
    neutral_person: tuple[str, ...]  # what people say of a named official on a calm day
    positive_person: tuple[str, ...]
    explicit: tuple[str, ...]
    explicit_tails: tuple[str, ...]
    sarcasm: tuple[str, ...]
    demand: tuple[str, ...]
    question: tuple[str, ...]
    news: tuple[str, ...]  # ordinary-tone posts of a news spike
    central: tuple[str, ...]  # the post at the centre of a storm (others' posts)
    own_post: tuple[str, ...]  # an official's own post that backfires
    reshare: tuple[str, ...]  # how a reshare of the central post reads
    bot: tuple[str, ...]
    copypaste: tuple[str, ...]
    platforms: tuple[str, ...]
    names: Names


_TUNED = Vocabulary(
    openers=("", "", "", "Honestly,", "Wow,", "So", "Just saw that", "Yet again", "Seriously,",
             "Read this:", "Right,", "Unbelievable."),
    fillers=("", "", "today", "this morning", "again", "on the news", "in Leeds", "in Bristol",
             "tonight", "right now", "this week", "in Glasgow", "in Cardiff", "lol",
             "in Manchester", "at work", "this evening", "in London", "for real"),
    neutral=("Reading about {n} {f}", "Anyone know the latest on {n}?",
             "{n} update: details published {f}", "Article on {n} {f}",
             "Meeting about {n} this week", "{n} mentioned on the radio {f}",
             "Question for {n} about the forms", "Looking into {n} for my mum",
             "{n} statement out {f}", "Notes on {n}", "Has anyone dealt with {n} before?",
             "{n} opening hours {f}?", "Interesting thread on {n}", "Waiting to hear from {n}"),
    positive=("Great work by {n} {f}", "Love the new {n}", "Thank you {n}, brilliant",
              "Really impressed with {n}", "{n} has been brilliant {f}",
              "Fantastic news from {n}", "{n} is wonderful", "so happy with {n} {f}",
              "Credit where due, {n} sorted it quickly"),
    neutral_person=("{n} speaking at the conference {f}", "Listening to {n} on the radio",
                    "{n} visiting a school {f}", "Interview with {n} {f}",
                    "{n} answering questions in parliament", "What did {n} say about the budget?",
                    "{n} statement in full", "Photo of {n} at the opening {f}"),
    positive_person=("Good speech from {n} {f}", "Thank you {n} for visiting",
                     "{n} was great on the radio", "Credit to {n} for listening"),
    explicit=("{n} is disgraceful", "{n} is a shameful mess", "{n} should be ashamed",
              "{n} is awful", "I hate what {n} is doing", "{n} treats people appallingly",
              "{n} is an absolute disgrace", "{n} has let everyone down",
              "{n} is cruel and unfair", "{n} is a scandal", "what a disaster {n} is"),
    explicit_tails=("", "", "Shameful.", "Disgusting.", "Awful.", "Pathetic.", "Appalling.",
                    "Enough is enough.", "Furious."),
    sarcasm=("lovely to see {n} so in touch with the public 🙄",
             "cheers {n}, great to know what you think of us 🙃", "well done {n}",
             "well done {n}, really well done 👏", "oh good, {n} has done it again 🙄",
             "genius move from {n} 🙃", "{n} really outdoing themselves {f} 🙄",
             "so glad {n} is looking out for us 🙃", "what would we do without {n} 🙄",
             "great to see {n} listening as always"),
    demand=("sack {n}", "{n} must resign", "{n} must go", "#Sack{t} {n} has to go",
            "{n} out #{t}Out", "time for {n} to go", "{n} should resign {f}",
            "sack {n} now #Sack{t}", "{n} must go. #{t}Out", "{n} resign."),
    question=("who is {n} and why is {p} trending?", "why is {n} trending??",
              "can someone explain what {n} has done", "what's going on with {n}?",
              "wait, what did {n} do?", "why is everyone talking about {n} {f}"),
    news=("{n} in the headlines {f}", "Breaking: {n} announcement expected",
          "{n} on the front page {f}", "Live updates: {n}", "{n} statement in full",
          "Watching the {n} coverage", "{n} press conference {f}", "Big day for {n}"),
    central=("{n} to cut support for thousands of families from next month",
             "Leaked memo: {n} plans to scrap help for disabled claimants",
             "{n} told staff to 'stop answering' complaints",
             "{n} quietly doubled the charge for carers",
             "{n} says people should 'try harder' to find work"),
    own_post=("If people worked harder they wouldn't need handouts. Simple as that.",
              "Enjoyed a lovely lunch while reviewing the cuts. Tough choices!",
              "Nobody in this country is really going hungry. Let's be honest.",
              "Proud of today's decision. Critics simply don't understand economics."),
    reshare=("RT {h}: {x}",),
    bot=("{n} is a disgrace, share this", "Everyone must see what {n} did",
         "{n} exposed, awful", "Shame on {n}", "RETWEET: {n} is lying to you",
         "{n} must be stopped #{t}"),
    copypaste=("I am appalled by {n}. It is shameful and must be scrapped now. #Scrap{t}",
               "Dear {n}, your decision is cruel. We will not forget. #{t}",
               "{n} has betrayed us all. Share if you agree."),
    platforms=("twitter", "twitter", "twitter", "facebook", "forum"),
    names=Names(
        person_title="Minister",
        first_female=("Jane", "Sarah", "Priya", "Helen", "Claire", "Amira", "Rachel",
                      "Fiona", "Grace"),
        first_male=("David", "Tom", "Raj", "Michael", "Owen", "Samuel", "Peter", "Liam"),
        surnames=("Whitfield", "Harcourt", "Pemberton", "Okafor", "Lindqvist", "Ashdown",
                  "Mercer", "Thornbury", "Kaur", "Galloway", "Fenwick", "Osei"),
        brands=("Acme", "Brightmart", "Fresco", "Kestrel", "Harbour", "Northgate", "Calder",
                "Summit", "Meadow", "Riverside", "Beacon", "Oakley"),
        brand_suffixes=("Stores", "Foods", "Logistics", "Care", "Recruitment", "Retail"),
        policy_heads=("Work", "Fair Start", "Family", "Youth", "Carer", "Housing", "Jobs",
                      "Back to Work", "Child", "Skills"),
        policy_tails=("Programme", "Scheme", "Guarantee", "Allowance", "Credit", "Support"),
        department_pattern="Department for {x}",
        remits=("Work", "Education", "Health", "Housing", "Communities", "Skills",
                "Families", "Employment"),
    ),
)

_HOLDOUT = Vocabulary(
    openers=("", "", "Ugh.", "Typical.", "Can't believe", "Once again", "Mate,", "Lads,",
             "PSA:", "Imagine"),
    fillers=("", "", "tbh", "ngl", "at the station", "on my commute", "in Newcastle",
             "in Norwich", "in Belfast", "as usual", "fr", "smh", "yesterday", "all week",
             "in Swansea", "idk", "in Hull"),
    neutral=("Does {n} cover weekends?", "{n} timetable {f}", "Filled in the {n} form {f}",
             "Podcast episode on {n}", "{n} consultation closes Friday",
             "Comparing {n} with last year", "Thread: how {n} works", "FAQ on {n} updated",
             "{n} helpline number anyone?", "Explainer: {n} in 5 points"),
    positive=("Big thanks to {n} {f}", "{n} came through for us", "Honestly {n} is decent",
              "Cheers to the {n} team, sorted in a day", "Not often I say it but {n} did well",
              "{n} made my week"),
    neutral_person=("{n} on the breakfast show {f}", "Clip of {n} at the select committee",
                    "{n} in Hull {f} for the launch", "Transcript: {n} Q&A",
                    "{n} reshuffle rumours", "Anyone watching {n} live?",
                    "{n} op-ed in today's paper"),
    positive_person=("Fair play to {n} {f}", "{n} handled that well tbh",
                     "Decent answers from {n} tonight"),
    explicit=("{n} is a complete shambles", "{n} is outrageous", "{n} is rubbish",
              "{n} is a total failure", "so angry about {n}", "{n} is insulting",
              "{n} is a rip off", "{n} is a horrible mess", "sick of {n}",
              "{n} is beyond useless"),
    explicit_tails=("", "", "Ridiculous.", "Useless.", "Shocking.", "Infuriating.", "Joke.",
                    "Clowns."),
    sarcasm=("wow {n}, truly outstanding work 🤡", "what a time to be alive, thanks {n} 😒",
             "10/10 performance from {n} as always 👏👏", "{n} never misses, does it 🤡",
             "absolute scenes from {n}, bravo", "thank god for {n}, said nobody 😒",
             "another triumph for {n} 🤡", "{n} smashing it as usual 🙃",
             "incredible stuff from {n}, really inspiring 😒"),
    demand=("get rid of {n}", "{n} resign now", "#{t}MustGo {n}", "#Fire{t} {n}",
            "no confidence in {n}", "{n} has to step down", "remove {n} today",
            "{n} needs to go, simple as", "{n} should be fired #Fire{t}"),
    question=("sorry who is {n}? why is my whole feed about {p}", "ok what did {n} do",
              "is {n} the one everyone's angry at?", "context on {n}? seeing it everywhere",
              "why am I seeing {n} all over my timeline"),
    news=("{n} trending after announcement", "Everyone's talking about {n} {f}",
          "{n} latest: what we know", "Clip of {n} doing the rounds",
          "{n} interview tonight", "Headlines dominated by {n}"),
    central=("Exclusive: {n} spent £2m on a rebrand while cutting services",
             "{n} caught deleting complaints from its page",
             "Footage shows {n} staff turning families away",
             "{n} boss calls customers 'a nuisance' in leaked audio"),
    own_post=("Some people just love to moan. Get a job.",
              "Delighted with our new first class travel policy for officials.",
              "If you can't afford the rise, maybe budget better?",
              "Unpopular opinion: the public don't know what's good for them."),
    reshare=("{x}", "“{x}” ← {h}", "{x} (via {h})"),
    bot=("Wake up people, {n} is corrupt", "{n} scandal they don't want you to see",
         "Boycott {n} now", "{n} = traitors", "Share before {n} deletes this"),
    copypaste=("We the undersigned demand {n} reverses this decision immediately.",
               "{n}: enough. We are watching. #{t}MustGo"),
    platforms=("facebook", "forum", "news", "twitter", "reddit"),
    names=Names(
        person_title="Secretary",
        first_female=("Imogen", "Bethan", "Nadia", "Joanna", "Siobhan", "Leila", "Hannah"),
        first_male=("Gareth", "Callum", "Hamid", "Stuart", "Ewan", "Marcus", "Declan"),
        surnames=("Crabtree", "Voss", "Aldridge", "Mensah", "Boyle", "Prendergast", "Quayle",
                  "Nakamura", "Rowntree", "Ellery"),
        brands=("Voltco", "Northway", "Pennine", "Aqualine", "Tellus", "Swiftrail", "Cobalt",
                "Granite", "Lumen", "Orbis"),
        brand_suffixes=("Energy", "Rail", "Water", "Telecom", "Transit", "Utilities"),
        policy_heads=("Green", "Rail", "School Meals", "Clean Air", "Rural", "Digital",
                      "Warm Homes", "Bus"),
        policy_tails=("Levy", "Pass", "Pledge", "Grant", "Charge", "Voucher"),
        department_pattern="Ministry of {x}",
        remits=("Transport", "Energy", "Environment", "Culture", "Justice", "Rural Affairs",
                "Digital"),
    ),
)

VOCABULARIES = {"tuned": _TUNED, "holdout": _HOLDOUT}
