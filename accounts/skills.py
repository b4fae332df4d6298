"""Skill names: the one normalization, and the checks a profile's skills pass."""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from core.text import clean_line

MAX_SKILLS = 20
MAX_SKILL_LENGTH = 50


@dataclass(frozen=True)
class CleanSkill:
    name: str
    display_name: str


def normalize_skill(raw: str) -> str:
    """Return the key a skill is stored, linked and searched under.

    The text is cleaned like a form line, normalized with NFKC and case-folded,
    the same steps as a hashtag. Whitespace is folded again after NFKC, which
    can turn a character into spaces.
    """
    return clean_line(unicodedata.normalize("NFKC", clean_line(raw)).casefold())


def split_skills(text: str) -> list[str]:
    """Split the skills box of the profile form: commas or line breaks separate."""
    return [part for line in text.splitlines() for part in line.split(",")]


def clean_skill(raw: str) -> CleanSkill:
    display_name = clean_line(raw)
    name = normalize_skill(raw)
    if not name:
        raise ValidationError("A skill is empty: type its name, such as 'Payments'.")
    length = max(len(display_name), len(name))
    if length > MAX_SKILL_LENGTH:
        raise ValidationError(
            f"The skill {display_name[:40]!r} is {length} characters long; the "
            f"limit is {MAX_SKILL_LENGTH}: use a shorter name."
        )
    if not any(char.isalnum() for char in name):
        raise ValidationError(
            f"The skill {display_name!r} has no letters or digits: name it in "
            "words, such as 'Cash application'."
        )
    return CleanSkill(name=name, display_name=display_name)


def clean_skills(raw_skills: Sequence[str]) -> list[CleanSkill]:
    """Clean each skill, drop blanks and repeats, and check the count."""
    kept: dict[str, CleanSkill] = {}
    for raw in raw_skills:
        if not clean_line(raw):
            continue
        skill = clean_skill(raw)
        kept.setdefault(skill.name, skill)
    if len(kept) > MAX_SKILLS:
        raise ValidationError(
            f"The profile lists {len(kept)} skills; the limit is {MAX_SKILLS}: "
            "keep the ones colleagues should find you for."
        )
    return list(kept.values())
