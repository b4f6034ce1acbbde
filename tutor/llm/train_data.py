"""Build the tutor's fine-tuning examples from the authored source data in adapters/data/.

Why it is built this way:
- Every example is rendered with the run-time prompt builder (`tutor.llm.prompt`), with the passages the
  real retriever returns for the question, so the model is trained on exactly what it will see.
- The sections that support the target are always among the passages (replacing the weakest hit when
  retrieval missed them); other hits stay as natural distractors, and a share of examples also get a
  hard negative (the GRU passage for an LSTM question) and a shuffled order, so the model learns to pick
  the right passage instead of copying the first one (RAFT, arXiv 2403.10131).
- About a quarter of the examples cannot be answered from their passages (off-topic, near-topic, and
  on-topic questions whose passages lack the fact); their target says the lesson does not cover it.
- Train and dev are split by question: one question text never appears in both.
- The source data is compact YAML (question variants x targets per level/style); this module expands it.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from tutor.llm.text import after_opener

LEVELS = ("beginner", "intermediate", "advanced")
STYLES = ("analogy", "example", "step-by-step", "concise")
STYLE_KEYS = {"analogy": "analogy", "example": "example", "step-by-step": "steps", "concise": "concise"}

# Sections that are easy to confuse with each other: used as hard negatives.
HARD_NEGATIVES: dict[str, tuple[str, ...]] = {
    "lstm": ("gru", "nn-rnn"),
    "gru": ("lstm", "nn-rnn"),
    "rnn": ("nn-rnn", "rnn-speech-recognition", "lstm"),
    "nn-rnn": ("rnn", "gru"),
    "rnn-speech-recognition": ("rnn", "lstm"),
    "vae": ("autoencoders", "vae-image-compression", "nn-autoencoder"),
    "vae-image-compression": ("vae", "autoencoders-denoising"),
    "autoencoders": ("vae", "nn-autoencoder", "autoencoders-denoising"),
    "nn-autoencoder": ("autoencoders", "vae"),
    "autoencoders-denoising": ("autoencoders", "vae-image-compression"),
    "gan": ("gan-deepfakes", "vae", "genai-basics"),
    "gan-deepfakes": ("gan", "ethics"),
    "transformers": ("self-attention", "nn-transformer", "transformers-translation"),
    "self-attention": ("transformers", "nn-transformer"),
    "nn-transformer": ("transformers", "self-attention"),
    "transformers-translation": ("transformers", "genai-vs-traditional"),
    "nn-cnn": ("nn-feedforward", "nn-rnn"),
    "nn-feedforward": ("nn-cnn", "neural-networks"),
    "neural-networks": ("nn-feedforward", "deep-learning-components"),
    "ai-subsets": ("neural-networks", "deep-learning-components"),
    "sampling": ("sampling-temperature", "training"),
    "sampling-temperature": ("sampling", "fine-tuning"),
    "training": ("fine-tuning", "sampling"),
    "fine-tuning": ("training", "emerging-trends"),
    "diffusion-models": ("genai-basics", "gan"),
    "evaluation-criteria": ("evaluating-models", "dalle-example"),
    "evaluating-models": ("evaluation-criteria",),
    "what-is-genai": ("genai-analogy", "genai-vs-traditional"),
    "genai-vs-traditional": ("what-is-genai", "model-type-applications"),
    "model-types-overview": ("model-type-applications", "genai-basics"),
    "model-type-applications": ("model-types-overview",),
    "ethics": ("emerging-trends", "gan-deepfakes"),
    "emerging-trends": ("ethics", "fine-tuning"),
    "use-case-creativity": ("use-case-automation", "dalle-example"),
    "use-case-automation": ("use-case-personalization", "use-case-creativity"),
    "use-case-personalization": ("use-case-automation", "use-case-industry"),
    "use-case-industry": ("use-case-creativity", "use-case-personalization"),
    "dalle-example": ("use-case-creativity", "transformers"),
}

NO_EVIDENCE_REPLIES = (
    "The lesson passages I found do not answer that, so I can't answer it from the course. Try asking it another way, or pick a topic from the lesson.",
    "I could not find that in the lesson passages, so I won't guess. Could you rephrase the question?",
)
# Words a faithful target may use without finding them in its passages: tutoring glue, not facts.
GLUE_WORDS = frozenset(
    """lesson lessons course passage passages covered cover covers cant can't won't guess answer answered
    answers question questions ask asking rephrase help explain topic topics example examples right wrong
    correct incorrect good choice well done missed point points key add could also think look back picture
    remember option options which what why how one two three four five first second third last other another
    nudge clue hint section sections sorry outside nothing says say said only name names named listed yes no
    not quite best fit part parts like just then so because means mean called kind type types thing things
    little bit lot lots much many more most less same different difference each every both way ways make makes
    made making use used uses using help helps find picks pick get gets got keep keeps go goes went
    that this those these with from about into onto over under after before when where whose than rather
    there their they them then here have has had does doing done some such very still while instead
    give gives giving take takes come comes came work works tell tells tries trying would should must
    idea ideas describe describes reread whether real really""".split()
)
# Plain-word paraphrases that beginner targets use for lesson terms (the lesson's own analogies aside).
PARAPHRASE_WORDS = frozenset(
    """squeeze squeezes squeezed squeezing rebuild rebuilds rebuilding picture pictures better great huge
    order chance mistake mistakes varied smaller extra checker catch fakes fake gans rnns vaes cnns lstms grus
    follow follows people faster useful important compete until online built handle handles number numbers
    through accurate power always change changes sequence""".split()
)


KINDS = ("explain", "compare", "followup", "quiz-feedback", "hint", "scenario", "off-topic", "near-topic",
         "lacking", "no-evidence")

# An answerable example whose target uses this many lesson terms absent from its prompt is left out.
MAX_STRONG_UNSUPPORTED = 2
TECHNICAL_MAX_SECTIONS = 4


class DataError(Exception):
    """The training source data is invalid or inconsistent; the message names the file and entry."""


@dataclass(frozen=True)
class PassageText:
    section_id: str
    title: str
    text: str


@dataclass
class RawExample:
    """One training example before rendering: everything the run-time prompt needs, plus the target."""

    id: str
    kind: str  # explain | compare | followup | quiz-feedback | hint | scenario | off-topic | near-topic | lacking | no-evidence
    question: str
    target: str
    level: str = "intermediate"
    style: str = "example"
    history: tuple[tuple[str, str], ...] = ()
    gold: tuple[str, ...] = ()  # sections that support the target (must be in the passages)
    passages: tuple[PassageText, ...] = ()
    answerable: bool = True
    split: str = "train"
    hard_negative: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuiltExample:
    """A rendered example: the exact run-time prompt text and the answer the model should write."""

    id: str
    kind: str
    split: str
    question: str
    prompt: str
    target: str
    answerable: bool
    sections: tuple[str, ...]
    gold: tuple[str, ...]
    level: str
    style: str
    tokens: int = 0


@dataclass
class Dataset:
    train: list[BuiltExample]
    dev: list[BuiltExample]
    source_sha256: str
    sha256: str
    retriever_id: str
    report: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        kinds: Counter[str] = Counter(e.kind for e in self.train + self.dev)
        unanswerable = sum(1 for e in self.train + self.dev if not e.answerable)
        return {
            "train": len(self.train),
            "dev": len(self.dev),
            "kinds": dict(sorted(kinds.items())),
            "unanswerable": unanswerable,
            "unanswerable_share": round(unanswerable / max(1, len(self.train) + len(self.dev)), 3),
            "hard_negative": sum(1 for e in self.train + self.dev if e.kind in ("explain", "compare") and "hard" in e.id),
        }


# --------------------------------------------------------------------------------------------- source
def data_dir() -> Path:
    from tutor.config import adapters_dir

    return adapters_dir() / "data"


def _load_yaml(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: cannot read training source data: {exc}") from exc


def source_files(root: Path | None = None) -> list[Path]:
    root = root or data_dir()
    files = sorted(root.glob("*.yaml"))
    if not files:
        raise DataError(f"no training source data (*.yaml) in {root}")
    return files


def source_sha256(files: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def norm_question(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _content_words(text: str) -> set[str]:
    out = set()
    for w in re.findall(r"[a-z][a-z0-9'-]*", text.lower()):
        w = w.strip("'-")
        if len(w) < 4 or w in GLUE_WORDS or w in PARAPHRASE_WORDS:
            continue
        out.add(_stem(w))
    return out


def _stem(w: str) -> str:
    for suffix in ("ing", "ies", "ied", "es", "ed", "ly", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            return w[: -len(suffix)]
    return w


def unsupported_words(target: str, support: str) -> list[str]:
    """Content words of the target that appear nowhere in its support text (a faithfulness screen)."""
    have = _content_words(support)
    return sorted(w for w in _content_words(target) if w not in have and not any(h.startswith(w) or w.startswith(h) for h in have if len(h) >= 5 and len(w) >= 5))


def question_overlap(a: str, b: str) -> float:
    """Jaccard overlap of the word sets of two questions (a cheap close-paraphrase screen)."""
    wa, wb = set(norm_question(a).split()), set(norm_question(b).split())
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def heldout_questions(path: Path | None = None) -> list[str]:
    """The heldout questions of the evaluation set: never to be trained on."""
    from tutor.config import _SOURCE_ROOT

    path = path or (_SOURCE_ROOT / "evals" / "genai-models" / "questions.yaml")
    data = _load_yaml(path)
    out = []
    for group in ("in_scope", "out_of_scope"):
        out += [q["question"] for q in data.get(group, []) if q.get("split") == "heldout"]
    return out


# --------------------------------------------------------------------------------------------- expansion
def _pick_target(topic: dict[str, Any], level: str, style: str) -> tuple[str, str]:
    """The authored target for a profile and the key it came from (most specific first)."""
    key = STYLE_KEYS[style]
    for k in (f"{level}/{key}", f"{level}/{style}"):
        if k in topic:
            return topic[k], k
    if key in topic and not (key == "analogy" and level == "advanced"):
        return topic[key], key
    if level == "intermediate":
        return topic.get("intermediate") or topic["advanced"], "intermediate" if "intermediate" in topic else "advanced"
    return topic[level], level


def _profiles_for_topic(topic: dict[str, Any], n_variants: int, rng: random.Random) -> list[list[tuple[str, str]]]:
    """Spread the topic's targets over its question variants: every authored target is used at least once."""
    wanted: list[tuple[str, str]] = [("beginner", rng.choice(("analogy", "example"))), ("advanced", rng.choice(("example", "analogy")))]
    for key, style in (("concise", "concise"), ("steps", "step-by-step"), ("example", "example"), ("analogy", "analogy")):
        if key in topic:
            wanted.append((rng.choice(("beginner", "intermediate")) if key == "analogy" else rng.choice(LEVELS), style))
    for k in topic:
        if "/" in k and not k.startswith("gold/"):
            lvl, key = k.split("/", 1)
            style = {v: s for s, v in STYLE_KEYS.items()}.get(key, key)
            wanted.append((lvl, style))
    wanted.append((rng.choice(LEVELS), rng.choice(STYLES)))
    per: list[list[tuple[str, str]]] = [[] for _ in range(n_variants)]
    for i, prof in enumerate(wanted):
        per[i % n_variants].append(prof)
    # every variant gets at least a beginner and an advanced reading of its question
    for v in range(n_variants):
        if not any(p[0] == "beginner" for p in per[v]):
            per[v].append(("beginner", rng.choice(STYLES)))
        if not any(p[0] == "advanced" for p in per[v]):
            per[v].append(("advanced", rng.choice(STYLES)))
    return per


def _split_variants(variants: list[str], dev_share: float, rng: random.Random) -> list[str]:
    """Which split each question variant goes to: one of every ~1/dev_share variants is dev (whole question)."""
    out = ["train"] * len(variants)
    if len(variants) >= 3 and rng.random() < dev_share * len(variants):
        out[-1] = "dev"
    return out


def attempt_question(question: str, learner_answer: str, feedback: str) -> str:
    """The run-time "explain my answer" question (tutor.llm.prompt.attempt_question)."""
    from tutor.llm.prompt import attempt_question as runtime_attempt

    return runtime_attempt(question, learner_answer, feedback)


def expand_sources(root: Path | None, quiz_items: Sequence[Any], seed: int = 7, dev_share: float = 0.12) -> list[RawExample]:
    """All raw examples (no passages yet) from the YAML files and the quiz bank."""
    rng = random.Random(seed)
    root = root or data_dir()
    out: list[RawExample] = []

    def topic_examples(path: Path, kind: str) -> None:
        data = _load_yaml(path) or {}
        for t in data.get("topics", []):
            tid = t.get("id", "?")
            for need in ("sections", "q", "beginner", "advanced"):
                if need not in t:
                    raise DataError(f"{path.name}: topic {tid!r} has no {need!r}")
            variants = list(t["q"])
            splits = _split_variants(variants, dev_share, rng)
            profiles = _profiles_for_topic(t, len(variants), rng)
            for vi, (q, split) in enumerate(zip(variants, splits)):
                for level, style in profiles[vi]:
                    target, key = _pick_target(t, level, style)
                    gold = t.get(f"gold/{key}", t["sections"])  # a target may rest on other sections first
                    out.append(
                        RawExample(
                            id=f"{kind}:{tid}:{vi}:{level}:{style}",
                            kind=kind,
                            question=q,
                            target=target.strip(),
                            level=level,
                            style=style,
                            gold=tuple(gold),
                            split=split,
                            meta={"topic": tid, "target_key": key},
                        )
                    )

    topic_examples(root / "explain.yaml", "explain")
    topic_examples(root / "compare.yaml", "compare")

    scope = _load_yaml(root / "scope.yaml") or {}
    declines = scope.get("declines") or []
    if not declines:
        raise DataError("scope.yaml: no decline templates")
    for kind in ("off_topic", "near_topic"):
        for i, item in enumerate(scope.get(kind, [])):
            split = "dev" if rng.random() < dev_share else "train"
            for j in range(2):
                level, style = rng.choice(LEVELS), rng.choice(STYLES)
                out.append(
                    RawExample(
                        id=f"{kind}:{i}:{j}",
                        kind=kind.replace("_", "-"),
                        question=item["q"],
                        target=declines[(i + j) % len(declines)].format(topic=item["topic"]),
                        level=level,
                        style=style,
                        answerable=False,
                        split=split,
                    )
                )
    for i, item in enumerate(scope.get("lacking", [])):
        split = "dev" if rng.random() < dev_share else "train"
        for j, level in enumerate(("beginner", "advanced")):
            out.append(
                RawExample(
                    id=f"lacking:{i}:{j}",
                    kind="lacking",
                    question=item["q"],
                    target=item["answer"].strip(),
                    level=level,
                    style=rng.choice(STYLES),
                    gold=tuple(item["sections"]),
                    answerable=False,
                    split=split,
                )
            )

    tutoring = _load_yaml(root / "tutoring.yaml") or {}
    for i, fu in enumerate(tutoring.get("followups", [])):
        history = tuple((r, t) for r, t in fu["history"])
        for vi, q in enumerate(fu["q"]):
            out.append(
                RawExample(
                    id=f"followup:{i}:{vi}",
                    kind="followup",
                    question=q,
                    target=fu["answer"].strip(),
                    level=rng.choice(LEVELS),
                    style=rng.choice(STYLES),
                    history=history,
                    gold=tuple(fu["sections"]),
                    split="dev" if (vi == 1 and i % 6 == 5) else "train",
                )
            )
    for i, sc in enumerate(tutoring.get("scenarios", [])):
        feedback = f"Correct answer: {sc['accepted']}. Key points: {'; '.join(sc['key_points'])}."
        out.append(
            RawExample(
                id=f"scenario:{i}",
                kind="scenario",
                question=attempt_question(sc["scenario"], sc["learner"], feedback),
                target=sc["answer"].strip(),
                level=rng.choice(LEVELS),
                style=rng.choice(STYLES),
                gold=tuple(sc["sections"]),
                split="dev" if i in (4, 5) else "train",
                meta={"stem": sc["scenario"]},
            )
        )

    hints = tutoring.get("hints", {}) or {}
    mc = [it for it in quiz_items if getattr(it, "kind", "") == "multiple_choice"]
    for n, item in enumerate(mc):
        split = "dev" if n % 10 == 9 else "train"
        wrong = [o for o in item.options if o.key != item.answer]
        right = next(o for o in item.options if o.key == item.answer)
        picks = [wrong[n % len(wrong)]] + ([wrong[(n + 1) % len(wrong)]] if n % 3 == 0 and len(wrong) > 1 else [])
        for o in picks:
            learner = f"{o.key}) {o.text}"
            feedback = f"Correct answer: {right.key}) {right.text}. {o.feedback.strip()} {right.feedback.strip()}"
            target = f"{o.feedback.strip()} The correct answer is {right.key}: {right.text.rstrip('.')}."
            out.append(
                RawExample(
                    id=f"quiz:{item.id}:{o.key}",
                    kind="quiz-feedback",
                    question=attempt_question(item.stem, learner, feedback),
                    target=target,
                    level=rng.choice(LEVELS),
                    style=rng.choice(STYLES),
                    gold=tuple(item.sections),
                    split=split,
                    meta={"item": item.id, "stem": item.stem},
                )
            )
        hint = hints.get(item.id)
        if hint is None and n % 3 != 1:
            continue
        options = " ".join(f"{o.key}) {o.text}" for o in item.options)
        q = f'Quiz question: "{item.stem}" Options: {options}\nCan I have a hint? Don\'t tell me the answer.'
        if hint is None:
            hint = (
                "Here is a nudge: reread the passage from the lesson that this question is about, and for each "
                "option ask whether the lesson really says that. Rule out the options that describe a different idea."
            )
        out.append(
            RawExample(
                id=f"hint:{item.id}",
                kind="hint",
                question=q,
                target=hint.strip(),
                level=rng.choice(LEVELS),
                style=rng.choice(STYLES),
                gold=tuple(item.sections),
                split=split,
                meta={"item": item.id, "key_text": right.text},
            )
        )
    return out


def core_question(ex: RawExample) -> str:
    """The learner's question proper (a quiz item's stem, a scenario's text), for split and leak checks."""
    if "stem" in ex.meta:
        return ex.meta["stem"]
    q = ex.question
    if q.startswith("Quiz question: "):
        q = q[len("Quiz question: ") :].split('"\n')[0].split('" Options')[0].strip('"')
    elif q.startswith("Scenario: "):
        q = q[len("Scenario: ") :].split("\n")[0]
    return q


HELDOUT_MAX_COSINE = 0.80  # a training question this close (MiniLM cosine) to a heldout one is left out
HELDOUT_MAX_OVERLAP = 0.5  # ... or sharing this share of its words
# Quiz stems are long and formal, which lowers their cosine with a learner's terse question: stricter.
HELDOUT_MAX_COSINE_QUIZ = 0.72


def drop_near_heldout(
    examples: list[RawExample], heldout: Sequence[str], embed: Callable[[list[str]], Any] | None
) -> tuple[list[RawExample], list[dict[str, Any]]]:
    """Leave out every example whose question is (close to) a heldout evaluation question."""
    questions = sorted({core_question(e) for e in examples})
    nearest: dict[str, tuple[float, str]] = {}
    if embed is not None and heldout:
        a, b = embed(questions), embed(list(heldout))
        sims = a @ b.T
        for i, q in enumerate(questions):
            j = int(sims[i].argmax())
            nearest[q] = (float(sims[i, j]), heldout[j])
    quiz_questions = {core_question(e) for e in examples if e.kind in ("quiz-feedback", "hint")}
    dropped_q: dict[str, dict[str, Any]] = {}
    for q in questions:
        cos, near = nearest.get(q, (0.0, ""))
        ov = max((question_overlap(q, h), h) for h in heldout) if heldout else (0.0, "")
        limit = HELDOUT_MAX_COSINE_QUIZ if q in quiz_questions else HELDOUT_MAX_COSINE
        if cos >= limit or ov[0] >= HELDOUT_MAX_OVERLAP:
            dropped_q[q] = {"question": q, "heldout": near if cos >= limit else ov[1],
                            "cosine": round(cos, 3), "overlap": round(ov[0], 3)}
    kept = [e for e in examples if core_question(e) not in dropped_q]
    return kept, list(dropped_q.values())


# --------------------------------------------------------------------------------------------- passages
@dataclass
class PassageSource:
    """Section texts and the real retriever, with a cache of searches (building runs thousands of them)."""

    sections: dict[str, PassageText]
    search: Callable[[str, int], list[str]]  # query, k -> section ids best first
    retriever_id: str = "?"
    best_sentences: Callable[[str, str, int], Sequence[tuple[str, float]]] | None = None
    course_title: str = ""


def course_passages(course: Any) -> dict[str, PassageText]:
    from tutor.retrieval.text import plain

    return {s.id: PassageText(s.id, s.title, plain(s.text)) for s in course.sections()}


def real_passage_source(course: Any) -> PassageSource:
    """The retriever exactly as the tutor uses it (MiniLM + shipped adapter + BM25)."""
    from tutor.retrieval import Retriever, load_embedder

    embedder = load_embedder()
    retriever = Retriever.build(course, embedder=embedder)
    cache: dict[tuple[str, int], list[str]] = {}

    def search(query: str, k: int) -> list[str]:
        key = (query, k)
        if key not in cache:
            cache[key] = [h.section_id for h in retriever.search(query, k=k).hits]
        return cache[key]

    return PassageSource(
        course_passages(course),
        search,
        getattr(embedder, "model_id", "?"),
        best_sentences=retriever.best_sentences,
        course_title=getattr(course, "title", ""),
    )


def attach_passages(examples: list[RawExample], source: PassageSource, k: int = 3, seed: int = 11, hard_share: float = 0.35) -> None:
    """Give every example its retrieval hits (section ids, best first), as the run-time pipeline would.

    The run-time evidence is the top hit in full plus the best sentence of each next hit, so the section
    that supports the target goes first; the other hits are what the real retriever returned (natural
    distractors), and for a share of examples a hard negative (the GRU section for an LSTM question)
    takes the place of one of them. Quiz and scenario feedback use the item's own sections, like
    `Tutor.explain_stream`.
    """
    rng = random.Random(seed)
    for ex in examples:
        query = core_question(ex) if ex.kind in ("quiz-feedback", "scenario") else ex.question
        if ex.kind in ("quiz-feedback", "scenario"):
            chosen = [g for g in ex.gold if g in source.sections]
        elif ex.kind == "no-evidence":
            avoid = set(ex.meta.get("avoid", ()))
            chosen = [h for h in source.search(query, k + 8) if h not in avoid][:k]
        elif ex.gold:
            unknown = [g for g in ex.gold if g not in source.sections]
            if unknown:
                raise DataError(f"example {ex.id}: unknown section ids {unknown}")
            gold = list(ex.gold)[:k]
            hits = source.search(query, k + 4)
            fill = [h for h in hits if h not in gold][: k - len(gold)]
            if ex.kind in ("explain", "compare", "followup") and len(fill) > 0 and rng.random() < hard_share:
                negs = [n for g in gold for n in HARD_NEGATIVES.get(g, ()) if n not in gold and n in source.sections]
                if negs:
                    neg = rng.choice(negs)
                    fill = [neg] + [f for f in fill if f != neg][: len(fill) - 1]
                    ex.hard_negative = True
            chosen = gold + fill
        else:
            chosen = source.search(query, k)
        ex.passages = tuple(source.sections[s] for s in chosen[: max(k, len(ex.gold))])


def add_no_evidence(examples: list[RawExample], seed: int = 5, share: float = 0.12) -> list[RawExample]:
    """On-topic questions paired with passages that lack their answer: the target says so."""
    rng = random.Random(seed)
    pool = [e for e in examples if e.kind in ("explain", "compare") and e.split == "train"]
    seen: set[str] = set()
    out = []
    for e in rng.sample(pool, k=int(len(pool) * share)):
        if e.question in seen:
            continue
        seen.add(e.question)
        out.append(
            RawExample(
                id=f"no-evidence:{e.meta.get('topic')}:{len(out)}",
                kind="no-evidence",
                question=e.question,
                target=NO_EVIDENCE_REPLIES[len(out) % len(NO_EVIDENCE_REPLIES)],
                level=e.level,
                style=e.style,
                answerable=False,
                split=e.split,
                meta={"avoid": _related(e.gold)},
            )
        )
    return out


def _related(gold: Sequence[str]) -> tuple[str, ...]:
    """Sections that might carry the same fact as the gold ones: kept out of a no-evidence prompt."""
    out = set(gold)
    for g in gold:
        out.update(HARD_NEGATIVES.get(g, ()))
    out.update({"model-types-overview", "model-type-applications", "genai-basics", "key-takeaways", "how-genai-works"})
    return tuple(sorted(out))


# --------------------------------------------------------------------------------------------- rendering
RenderFn = Callable[[RawExample], tuple[str, str]]  # -> (prompt text, text the target may rely on)


def build_dataset(
    render: RenderFn,
    source: PassageSource,
    quiz_items: Sequence[Any],
    *,
    root: Path | None = None,
    count_tokens: Callable[[str], int] | None = None,
    max_len: int | None = None,
    seed: int = 7,
    embed: Callable[[list[str]], Any] | None = None,
) -> Dataset:
    """Expand, attach passages, render with the run-time prompt, check, and split by question."""
    files = source_files(root)
    raw = expand_sources(root, quiz_items, seed=seed)
    raw += add_no_evidence(raw, seed=seed)
    raw, near_heldout = drop_near_heldout(raw, heldout_questions(), embed)
    # one question text lives in exactly one split: dev wins
    dev_questions = {norm_question(e.question) for e in raw if e.split == "dev"}
    for e in raw:
        if norm_question(e.question) in dev_questions:
            e.split = "dev"
    attach_passages(raw, source)

    df: Counter[str] = Counter()
    for p in source.sections.values():
        df.update(_content_words(f"{p.title} {p.text}"))
    # the lesson's technical terms: words few sections use (common words like "look" or "time" are not facts)
    lesson_vocab = {w for w, n in df.items() if n <= TECHNICAL_MAX_SECTIONS and len(w) >= 5}
    built: list[BuiltExample] = []
    unsupported: dict[str, list[str]] = {}
    unfaithful: dict[str, list[str]] = {}
    over_budget = 0
    for e in raw:
        prompt, support = render(e)
        # a prompt that ends inside a seeded answer: the model's first token carries its own leading space
        target = e.target if not prompt or prompt[-1].isspace() else " " + after_opener(prompt, e.target)
        tokens = 0
        if count_tokens is not None:
            tokens = count_tokens(prompt) + count_tokens(target) + 1
            if max_len is not None and tokens > max_len:
                over_budget += 1
                continue
        if e.answerable or e.kind == "lacking":
            bad = unsupported_words(e.target, support)
            if bad:
                unsupported[e.id] = bad
            # lesson terms the prompt does not show: the target would teach the model to add facts
            strong = [w for w in bad if w in lesson_vocab]
            if len(strong) >= MAX_STRONG_UNSUPPORTED:
                unfaithful[e.id] = strong
                continue
        built.append(
            BuiltExample(
                id=e.id + (":hard" if e.hard_negative else ""),
                kind=e.kind,
                split=e.split,
                question=e.question,
                prompt=prompt,
                target=target,
                answerable=e.answerable,
                sections=tuple(p.section_id for p in e.passages),
                gold=e.gold,
                level=e.level,
                style=e.style,
                tokens=tokens,
            )
        )
    digest = hashlib.sha256()
    for b in built:
        digest.update(json.dumps([b.id, b.split, b.prompt, b.target]).encode())
    ds = Dataset(
        train=[b for b in built if b.split == "train"],
        dev=[b for b in built if b.split == "dev"],
        source_sha256=source_sha256(files),
        sha256=digest.hexdigest(),
        retriever_id=source.retriever_id,
    )
    ds.report = {
        "near_heldout_dropped": near_heldout,
        "over_budget_dropped": over_budget,
        "unfaithful_dropped": unfaithful,
        "unsupported_words": unsupported,
        "max_tokens": max((b.tokens for b in built), default=0),
        "mean_tokens": round(sum(b.tokens for b in built) / max(1, len(built)), 1),
    }
    return ds


# Sampling weights of the example kinds (1 when not named; 0 leaves a kind out). Quiz feedback is long and
# the tutor's explanations and follow-ups matter most. Hints are written by the quiz engine at run time,
# never by the model. Unanswerable kinds are left out: trained on answers seeded with key sentences, they
# taught the adapter to end correct in-scope answers with "the lesson does not cover ..." (32.5% of dev
# answers with 23% unanswerable examples, 17.5% with 8%, 0% with none; adapters/tutor-lora/card.md), while
# the retriever's scope gate declines out-of-scope questions before the model is called.
SUBSET_WEIGHTS = {
    "quiz-feedback": 0.3,
    "hint": 0.0,
    "scenario": 1.0,
    "off-topic": 0.0,
    "near-topic": 0.0,
    "no-evidence": 0.0,
    "lacking": 0.0,
}


def select_subset(
    examples: Sequence[BuiltExample], n: int, seed: int = 13, weights: Mapping[str, float] | None = None
) -> list[BuiltExample]:
    """A weighted random subset of n examples (weighted sampling without replacement), in input order.

    ``weights`` (kind -> weight, default `SUBSET_WEIGHTS`, 1 for kinds not named); weight 0 leaves a kind out.
    """
    weights = SUBSET_WEIGHTS if weights is None else weights
    rng = random.Random(seed)
    keyed = sorted(
        (
            (rng.random() ** (1.0 / w), i)
            for i, e in enumerate(examples)
            if (w := weights.get(e.kind, 1.0)) > 0
        ),
        reverse=True,
    )
    chosen = sorted(i for _, i in keyed[:n])
    return [examples[i] for i in chosen]


def repeat_levels(examples: Sequence[BuiltExample], repeats: Mapping[str, int]) -> list[BuiltExample]:
    """Each example ``repeats[level]`` times (1 when its level is not named), in input order.

    Plain-words beginner answers are the hardest habit for the small model to keep once the seed it continues
    is long lesson text; seeing those examples more often per epoch weighs them up without leaving anything out.
    """
    bad = sorted(set(repeats) - set(LEVELS))
    if bad:
        raise DataError(f"unknown level(s) {', '.join(bad)}; the levels are {', '.join(LEVELS)}")
    if any(int(n) != n or n < 1 for n in repeats.values()):
        raise DataError("a level repeat must be a whole number >= 1")
    return [e for e in examples for _ in range(int(repeats.get(e.level, 1)))]


def write_jsonl(examples: Sequence[BuiltExample], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for e in examples:
            fh.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[BuiltExample]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            d["sections"] = tuple(d["sections"])
            d["gold"] = tuple(d["gold"])
            out.append(BuiltExample(**d))
    return out


@dataclass(frozen=True)
class _Hit:
    """The fields of a retriever hit that `tutor.llm.evidence.pick_evidence` reads."""

    section_id: str
    title: str
    text: str
    score: float = 1.0


def runtime_renderer(
    tokenizer: Any,
    source: PassageSource,
    *,
    context_tokens: int = 2048,
    reserve: int = 160,
    seed: int = 3,
    answer_seed: str | None = None,
) -> RenderFn:
    """Render examples exactly as `tutor.llm.answer.Tutor` prompts the model.

    Evidence: `pick_evidence` with the default `EvidenceConfig` (top hit in full, best sentence of the next
    hits, key sentence restated); prompt: `tutor.llm.prompt.build_prompt` with the run-time budget.
    ``answer_seed`` ("key" | "key+opener", `tutor.llm.prompt.ANSWER_SEEDS`): the assistant turn starts with
    the seed the tutor writes before the model at run time, so the target is the continuation the model
    must write (an adapter trained on unseeded prompts meets seeded ones at run time and was measured no
    better than the base model). None: unseeded, as the first adapters were trained.
    Returns a function giving (prompt text, the text the target may rely on).
    """
    from tutor.llm.evidence import EvidenceConfig, pick_evidence
    from tutor.llm.prompt import ANSWER_SEEDS, DEFAULT_COURSE, SEED_WITH_OPENER, answer_request, build_prompt

    if answer_seed is not None and answer_seed not in ANSWER_SEEDS:
        raise DataError(f"answer_seed must be one of {', '.join(ANSWER_SEEDS)} (got {answer_seed!r})")

    if source.best_sentences is None:
        raise DataError("the passage source has no best_sentences (use real_passage_source)")
    config = EvidenceConfig()
    rng = random.Random(seed)
    concept_pool = ("Generative adversarial networks", "Variational autoencoders", "Transformers",
                    "Recurrent neural networks", "Sampling", "Autoencoders", "Long short-term memory")

    def render(ex: RawExample) -> tuple[str, str]:
        hits = [_Hit(p.section_id, p.title, p.text) for p in ex.passages]
        evidence_question = core_question(ex) if ex.kind in ("quiz-feedback", "scenario") else ex.question
        cfg = config if ex.kind not in ("quiz-feedback", "scenario") else EvidenceConfig(hits=max(1, len(hits)))
        pick = pick_evidence(evidence_question, hits, source.best_sentences, cfg.for_level(ex.level))
        weak = tuple(rng.sample(concept_pool, 2)) if rng.random() < 0.15 else ()
        request = answer_request(
            ex.question,
            pick.prompt_passages,
            key_sentences=pick.key_sentences,
            level=ex.level,
            style=ex.style,
            history=ex.history,
            weak_concepts=weak,
            course_title=source.course_title or DEFAULT_COURSE,
            opener=answer_seed == SEED_WITH_OPENER,
        )
        if answer_seed is None:
            request = replace(request, answer_start="")
        # the rendered text ends with the seed, as the tutor's prompt does (`tutor.llm.prompt.render`)
        built = build_prompt(tokenizer, request, context_tokens=context_tokens, reserve=reserve)
        support = " ".join(f"{p.title} {p.text}" for p in built.passages)
        support += " " + pick.key_sentence + " " + ex.question + " " + " ".join(t for _, t in ex.history)
        return built.text, support

    return render
