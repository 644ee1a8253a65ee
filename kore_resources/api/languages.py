"""Bot language codes: which are well formed (accepted), and which Kore.ai's docs list (the rest warn).

Why not a fixed list: the train call's `bot-language` takes "the bot's language", the docs link it to the
long list of conversation languages, and Kore.ai adds NLU languages release by release (docs/kore-api.md
§2.6). A list here would refuse a bot that works; the platform itself says which languages a bot has, and
its refusal is shown with the language it named.
"""

from __future__ import annotations

import difflib
import re

#: 2-3 letters, optionally `_` or `-` and a region or variant: `en`, `fil`, `zh_cn`, `pt_pt`, `en-US`.
LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?")

#: "Supported NLU Languages" (docs/kore-api.md §2.6): the languages ML training is per-language for.
NLU_LANGUAGES = frozenset(
    "ar ca de en es fi fr hi id it ja kk ko mr nb nl pl pt pt_pt ru sl sv ta te tl uk zh_cn zh_tw".split()
)
#: "Supported VA languages" (the conversation languages), which the train page's `bot-language` links to,
#: as the docs write them; plus `vi`, which real bot exports carry.
CONVERSATION_LANGUAGES = frozenset(
    (
        "af am ar as az be bg bn bo bs ca ceb co cs cy da de el en eo es et eu fa fi fil fr fy ga gl gu ha "
        "haw he hi hmn hr ht hu hy id ig is it ja jv ka kk km kn ko ky la lb lo lt lv mg mi mk ml mn mr ms "
        "mt my nb ne nl ny or pa pl pt pt_pt ro ru rw si sk sl sm sn so sq sr st su sv sw ta te tg th tk tl "
        "tr tt ug uk ur uz vi wo xh yi yo zh_cn zh_tw"
    ).split()
)
DOCUMENTED_LANGUAGES = NLU_LANGUAGES | CONVERSATION_LANGUAGES


def language_problem(language: object) -> str | None:
    """Why `language` is not a language code at all (it would not be a header or query value), or None.
    A well-formed code the docs do not list is accepted: see `undocumented_language`."""
    if isinstance(language, str) and LANGUAGE_CODE.fullmatch(language):
        return None
    return (
        f"{language!r} is not a language code; expected the bot language's code as Kore.ai writes it, such "
        "as en, de, pt_pt or zh_cn"
    )


def undocumented_language(language: str) -> str | None:
    """A warning for a well-formed code that Kore.ai's docs do not list, naming the closest documented one;
    None for a documented code. A warning, not a refusal: the platform may support it."""
    if language in DOCUMENTED_LANGUAGES:
        return None
    closest = closest_documented(language)
    hint = f" Did you mean {closest!r}?" if closest else ""
    return (
        f"bot language {language!r} is not a language code Kore.ai's docs list (docs/kore-api.md "
        f"§2.6).{hint} If the bot has this language, ignore this; if not, Kore.ai refuses it when it trains."
    )


def closest_documented(language: str) -> str | None:
    """The documented code `language` most likely means: the same code in lower case with `_`
    (`zh-CN` -> `zh_cn`), its primary language (`en_us` -> `en`), else the nearest spelling."""
    lowered = language.lower().replace("-", "_")
    if lowered in DOCUMENTED_LANGUAGES:
        return lowered
    primary = lowered.split("_", 1)[0]
    if primary in DOCUMENTED_LANGUAGES:
        return primary
    prefixes = [code for code in DOCUMENTED_LANGUAGES if "_" not in code and lowered.startswith(code)]
    if prefixes:  # `deu` (ISO 639-2) -> `de`, `english` -> `en`
        return max(prefixes, key=len)
    matches = difflib.get_close_matches(lowered, sorted(DOCUMENTED_LANGUAGES), n=1, cutoff=0.5)
    return matches[0] if matches else None
