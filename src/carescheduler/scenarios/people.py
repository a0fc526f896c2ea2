"""Made-up people for generated days: names, telephone numbers, how to get in, notes.

A carer at the door needs the client's name, a number to ring when nobody answers and how
to get in. Generated days carry such details so the carers' view can be shown and tested
on them, and none of them may reach a real person:

* names are common British first names and surnames put together at random (older first
  names for clients, working-age ones for carers);
* telephone numbers come only from the ranges Ofcom keeps for drama, which are never
  given to anyone: 07700 900000-900999 (mobiles) and 01632 960000-960999 (landlines).
  Each number is used once until its range runs out (a day of more than a thousand
  landline clients shares some);
* key-safe codes are random four-digit numbers.

These details change no plan, so ``People`` draws them from a random stream of their own
(``(seed, 1)``): the visits, windows, carers and shifts of a seed are the same with them
as they were before they existed.
"""

from __future__ import annotations

import numpy as np

from ..domain import Gender

__all__ = ["LANDLINES", "MOBILES", "People"]

MOBILES = ("07700 900", 1000)
"""Ofcom's drama range for mobiles: the prefix and how many numbers follow (000-999)."""
LANDLINES = ("01632 960", 1000)
"""Ofcom's drama range for landlines (the fictional area code 01632)."""

FEMALE_CLIENTS = 0.65  # about two in three people receiving home care are women
CLIENT_MOBILES = 0.25  # clients whose number is a mobile rather than a landline
KEY_SAFES = 0.45  # clients whose carers let themselves in with a key safe
OTHER_ACCESS = 0.45  # of the rest: clients with some other note on how to get in
GENERAL_NOTES = 0.35  # clients with a general note for the carers

OLDER_WOMEN = (
    "Margaret", "Joan", "Dorothy", "Jean", "Patricia", "Barbara", "Betty", "Doris", "Irene",
    "Eileen", "Sheila", "Maureen", "Brenda", "Joyce", "Audrey", "Sylvia", "Elsie", "Edna",
    "Kathleen", "Mary", "Elizabeth", "Pamela", "Valerie", "Shirley", "Norma", "Ruby", "Violet",
    "Hilda", "Winifred", "Marjorie", "Phyllis", "Vera", "Gladys", "Ivy", "Enid", "Beryl",
    "Rita", "Pauline", "Ann", "Gwen",
)  # fmt: skip
OLDER_MEN = (
    "John", "William", "George", "Peter", "David", "Michael", "Robert", "Kenneth", "Ronald",
    "Dennis", "Derek", "Brian", "Roy", "Alan", "Keith", "Frank", "Harold", "Arthur", "Albert",
    "Stanley", "Leonard", "Raymond", "Norman", "Douglas", "Bernard", "Eric", "Geoffrey",
    "Gordon", "Walter", "Ernest", "Frederick", "Sidney", "Cyril", "Terence", "Colin", "Barry",
)  # fmt: skip
WOMEN = (
    "Sarah", "Emma", "Laura", "Claire", "Rebecca", "Gemma", "Amy", "Hannah", "Jade", "Chloe",
    "Kirsty", "Nicola", "Lisa", "Joanne", "Michelle", "Karen", "Tracey", "Donna", "Leanne",
    "Stacey", "Aisha", "Priya", "Fatima", "Grace", "Blessing", "Agnieszka", "Maria", "Ioana",
    "Precious", "Zainab", "Sophie", "Megan", "Kelly", "Natalie", "Charlotte",
)  # fmt: skip
MEN = (
    "James", "Daniel", "Thomas", "Ryan", "Liam", "Adam", "Mohammed", "Tomasz", "Kwame", "Ben",
    "Craig", "Lee", "Jamie", "Callum", "Marcus", "Samuel", "Joseph", "Luke", "Nathan", "Kieran",
)  # fmt: skip
SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Jackson", "Clarke", "Patel", "Khan", "Lewis", "Harris", "Martin", "Cooper", "Hill", "Ward",
    "Hughes", "Moore", "Turner", "King", "Baker", "Harrison", "Morris", "Edwards", "Wilkinson",
    "Lee", "Allen", "Price", "Bennett", "Hussain", "Begum", "Shaw", "Lloyd", "Kaur", "Singh",
    "Ali", "Ahmed", "Nowak", "Okafor", "Mensah", "Murphy", "Kelly", "O'Brien", "Campbell",
    "Stewart", "Scott", "Reid", "Murray", "Graham", "Young", "Mitchell", "Phillips", "Parker",
    "Carter", "Fletcher", "Barker", "Holmes", "Marshall", "Grant", "Chapman", "Pearson", "Dixon",
    "Fox", "Mason", "Webb", "Ellis", "Owen", "Jenkins",
)  # fmt: skip

KEY_SAFE_PLACES = (
    "by the front door",
    "left of the back door",
    "on the garage wall",
    "inside the porch",
    "behind the side gate",
)
OTHER_WAYS_IN = (
    "Ring and wait: hard of hearing and slow to the door",
    "Use the side door; the front door is bolted",
    "Door on the latch: knock and call out as you go in",
    "Lives with family, who let you in",
    "Use the back door; the front path is steep and unlit",
    "Ring the bell twice, then knock on the window",
)
AT_THE_DOOR = (  # anyone may have these as well, each with its probability
    ("Dog in the kitchen: keep the door shut", 0.10),
    ("The cat must not get out", 0.06),
    ("Park on the road, not the drive", 0.08),
    ("Shoes off at the door, please", 0.04),
)
GENERAL = (
    "Likes tea with two sugars",
    "First language Punjabi; family translate",
    "Partner lives here too and is not a client",
    "Diabetic: check the blood sugar diary",
    "Falls risk: keep the walking frame within reach",
    "Next of kin's number is in the care folder",
    "Likes the radio on while you work",
    "Do not move the papers on the dining table",
    "Pendant alarm: check it is worn",
    "Poor eyesight: say who you are as you come in",
)


class People:
    """The made-up details of one generated day, drawn from their own random stream."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng((seed, 1))  # stream 1 beside the day's own (seed)
        self._numbers = {MOBILES: self._deck(MOBILES[1]), LANDLINES: self._deck(LANDLINES[1])}
        self._names: set[str] = set()

    def carer_name(self, gender: Gender | None) -> str:
        female = gender == Gender.female if gender is not None else self.rng.random() < 0.5
        return self._name(WOMEN if female else MEN)

    def client_details(self) -> dict[str, str | None]:
        """A client's ``name``, ``phone``, ``access_notes`` and ``notes`` (Client fields)."""
        name = self._name(OLDER_WOMEN if self.rng.random() < FEMALE_CLIENTS else OLDER_MEN)
        phone = self.phone(mobile=self.rng.random() < CLIENT_MOBILES)
        return {"name": name, "phone": phone, "access_notes": self._access(), "notes": self._general()}

    def phone(self, mobile: bool) -> str:
        """The next unused number of the drama range (a fresh round once all are used)."""
        prefix, size = kind = MOBILES if mobile else LANDLINES
        deck = self._numbers[kind]
        if not deck:
            deck.extend(self._deck(size))
        return f"{prefix}{deck.pop():03d}"

    def _deck(self, size: int) -> list[int]:
        return [int(n) for n in self.rng.permutation(size)]

    def _name(self, first_names: tuple[str, ...]) -> str:
        """A first name and a surname, another pair tried a few times if the day has it."""
        for _ in range(10):
            name = f"{self._pick(first_names)} {self._pick(SURNAMES)}"
            if name not in self._names:
                break
        self._names.add(name)
        return name

    def _access(self) -> str | None:
        notes = []
        if self.rng.random() < KEY_SAFES:
            code = int(self.rng.integers(10_000))
            notes.append(
                f"Key safe {self._pick(KEY_SAFE_PLACES)}, code {code:04d}: put the key back and scramble the code"
            )
        elif self.rng.random() < OTHER_ACCESS:
            notes.append(self._pick(OTHER_WAYS_IN))
        notes.extend(note for note, p in AT_THE_DOOR if self.rng.random() < p)
        return ". ".join(notes) + "." if notes else None

    def _general(self) -> str | None:
        return self._pick(GENERAL) + "." if self.rng.random() < GENERAL_NOTES else None

    def _pick(self, options: tuple[str, ...]) -> str:
        return options[int(self.rng.integers(len(options)))]
