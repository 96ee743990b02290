"""The drill's reply: covered, wrong and missed points, counted against what was asked."""

from __future__ import annotations

from bot.quiz.drill import score_answer
from bot.quiz.views import drill_result_text
from bot.texts import Texts
from db.models import Question, QuestionKind

POINTS = ["办学基本标准85分以上", "政府推进工作85分以上", "小学差异系数不超过0.65",
          "初中差异系数不超过0.55", "公众满意度85%以上"]


def _question(text: str, points: list[str]) -> Question:
    return Question(key="x", kind=QuestionKind.OPEN, text=text, key_points=points,
                    model_answer="参考答案", options=[], correct=[])


def test_a_wrong_value_is_named_in_the_reply() -> None:
    question = _question("基本均衡认定看哪几项内容？", POINTS)
    result = score_answer("办学基本标准85分以上，政府推进工作85分以上，小学差异系数不超过0.65，"
                          "初中不超过0.55，满意度58%以上。", POINTS, question=question.text)
    reply = drill_result_text(Texts.load(), "zh", question, result)
    assert "60 分" in reply and "4/5" in reply
    assert "说错了：公众满意度85%以上" in reply


def test_n_of_m_counts_against_n() -> None:
    points = ["随机抽样，点面结合", "硬件从实，软件从严", "重在过程，兼顾结果", "保证投入",
              "政府行为"]
    question = _question("请说出至少三项原则。", points)
    result = score_answer("随机抽样、点面结合，保证投入，政府行为，硬件从实、软件从严。", points,
                          question=question.text)
    reply = drill_result_text(Texts.load(), "en", question, result)
    assert "Score: 100" in reply and "3/3" in reply
