"""Quiz test helpers: a small bank, a request that answers sendPoll with a real poll, and
poll_answer updates as Telegram sends them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import PollAnswer, Update, User

from bot.quiz import bank as quiz_bank
from bot.quiz.bank import ImportResult
from tests.utils.telegram import RecordingRequest, SentCall

SMALL_BANK = """
version: 1
indicators:
  - {code: FJ, name: 一票否决, veto: true, description: 一旦出现就不能通过的事项，如辍学率超标、满意度低于85%。}
  - {code: JH, name: 均衡发展认定, description: 校际差异系数、满意度和认定程序。}
questions:
  - id: s1
    type: single
    indicator: FJ
    difficulty: 1
    question: 均衡认定的公众满意度须达到多少？
    options: ["85%以上", "60%以上", "70%以上"]
    correct: [0]
    explanation: 满意度低于85%属于一票否决情形。
    source: "004"
  - id: s2
    type: truefalse
    indicator: JH
    difficulty: 1
    question: 小学校际差异系数的标准是小于或等于0.65。
    options: ["正确", "错误"]
    correct: [0]
    explanation: 小学≤0.65，初中≤0.55。
    source: "004"
  - id: s3
    type: multiple
    indicator: FJ
    difficulty: 2
    question: 哪些属于均衡认定的一票否决情形？
    options: ["发生重大安全事故", "满意度低于85%", "学校建了新操场"]
    correct: [0, 1]
    explanation: 重大安全事故和满意度不足都会被一票否决。
    source: "004"
  - id: s4
    type: single
    indicator: JH
    difficulty: 2
    question: 初中校际差异系数的标准是？
    options: ["≤0.55", "≤0.65", "≤0.75"]
    correct: [0]
    explanation: 初中≤0.55。
    source: "004"
  - id: o1
    type: open
    indicator: JH
    difficulty: 2
    question: “两基”通过国检要满足什么条件？
    explanation: 要点：两通过、一达标。
    key_points: ["两通过、一达标", "所有县通过审查", "教育部公布", "自查材料通过国家审查", "抽查地区指标全部达标"]
    model_answer: 概括为两通过、一达标：所有县通过国家审查并由教育部公布；自查材料通过国家审查；抽查地区指标全部达标。
    source: "000"
"""


async def load_small_bank(session: AsyncSession) -> ImportResult:
    return await quiz_bank.import_file(session, "bank.yaml", SMALL_BANK)


@dataclass
class PollRequest(RecordingRequest):
    """A RecordingRequest whose sendPoll returns the poll, as Telegram does."""

    _poll_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5_300_001))

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        result = super()._answer(method, params)
        if method == "sendPoll":
            poll_id = str(next(self._poll_ids))
            options = params["options"]
            result["poll"] = {
                "id": poll_id,
                "question": params["question"],
                "options": [
                    {"text": o["text"] if isinstance(o, dict) else str(o), "voter_count": 0,
                     "persistent_id": f"{poll_id}-{i}"}
                    for i, o in enumerate(options)
                ],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": params.get("is_anonymous", True),
                "type": params.get("type", "regular"),
                "allows_multiple_answers": params.get("allows_multiple_answers", False),
                "allows_revoting": False,
                "members_only": False,
                "correct_option_ids": params.get("correct_option_ids"),
            }
        return result

    def polls(self) -> list[SentCall]:
        return self.sent("sendPoll")

    def poll_id(self, index: int = -1) -> str:
        """The id this request gave the poll sent `index`-th (-1: the last one)."""
        count = len(self.polls())
        number = index if index >= 0 else count + index
        return str(5_300_001 + number)


_update_ids = itertools.count(900_000)


def poll_answer(user: User, poll_id: str, option_ids: list[int]) -> Update:
    answer = PollAnswer(poll_id, option_ids, user=user,
                        option_persistent_ids=[f"{poll_id}-{i}" for i in option_ids])
    return Update(next(_update_ids), poll_answer=answer)


def correct_ids(call: SentCall) -> list[int]:
    raw = call.params["correct_option_ids"]
    return [int(i) for i in raw]


def wrong_ids(call: SentCall) -> list[int]:
    right = set(correct_ids(call))
    count = len(call.params["options"])
    return [next(i for i in range(count) if i not in right)]
