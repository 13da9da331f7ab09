"""Commands and natural answers: the kinds of phrasing the reader must get right.

Pure functions only (no database, no webhook): each test names the behaviour.
"""

from __future__ import annotations

import pytest

from service.understanding import read
from service.understanding.clock import find_clock
from service.understanding.commands import command
from service.understanding.context import Context
from service.understanding.goals import goal_named, goal_number, stem
from service.understanding.normalise import normalise

TWO_GOALS = ("evening walk", "call my sponsor")


def intent(body: str, goals: tuple[str, ...] = TWO_GOALS, **context: object) -> str:
    return read(body, Context(goals=goals, **context)).intent  # type: ignore[arg-type]


def reading(body: str, goals: tuple[str, ...] = TWO_GOALS, **context: object):
    return read(body, Context(goals=goals, **context))  # type: ignore[arg-type]


# Times ----------------------------------------------------------------------


def test_a_time_without_am_pm_is_the_one_inside_the_allowed_hours() -> None:
    assert find_clock("move it to 6:30") == "18:30"
    assert find_clock("text me at 9") == "09:00"
    assert find_clock("text me at 11") == "11:00"


def test_a_time_with_am_or_a_part_of_the_day_is_read_as_written() -> None:
    assert find_clock("6:30am") == "06:30"
    assert find_clock("like 6 in the morning") == "06:00"
    assert find_clock("830am") == "08:30"
    assert find_clock("can it be in the evening around 7") == "19:00"


def test_spoken_times_are_read_in_english_and_spanish() -> None:
    assert find_clock("half past 6") == "18:30"
    assert find_clock("quarter to 8 in the morning") == "07:45"
    assert find_clock("a las 5 y media de la tarde") == "17:30"
    assert find_clock("a las 8 menos cuarto de la manana") == "07:45"


def test_a_bare_number_is_a_count_not_a_time() -> None:
    assert find_clock("pause 2 weeks") is None
    assert find_clock("walked 730 steps") is None


@pytest.mark.parametrize(
    ("body", "time"),
    [("5pm pls", "17:00"), ("10pm is better for me", "22:00"), ("a las 6:30 am porfa", "06:30"),
     ("switch to 4 in the afternoon", "16:00"), ("noon please", "12:00"),
     ("lo pueden mover a las 4:15 pm?", "16:15")],
)  # fmt: skip
def test_a_time_alone_or_with_a_request_moves_the_check_in(body: str, time: str) -> None:
    found = reading(body)
    assert (found.intent, found.time) == ("time", time)


def test_a_time_in_news_is_not_a_request() -> None:
    assert intent("my shift ends at 6") == "other"
    assert intent("1 tonight") == "mood"


# Negation scope ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["I can't stop smiling", "can't wait for this week to end",
     "I couldn't stop thinking about my grandma today, good memories though",
     "Never gonna stop fighting for my sobriety", "sorry cant think rn my kid is screaming"],
)  # fmt: skip
def test_a_negation_about_something_else_is_not_a_not_yet(body: str) -> None:
    assert intent(body, ("take a walk",)) not in ("not_yet", "done", "rest")


@pytest.mark.parametrize(
    "body",
    ["didn't make it tonight", "couldnt go, car wouldn't start", "haven't called my sponsor yet",
     "nah havent", "couldnt sit still to meditate", "no walk yet, maybe after dinner"],
)  # fmt: skip
def test_a_negation_about_doing_the_goal_is_not_yet(body: str) -> None:
    goals = ("evening walk", "call my sponsor", "meditate 10 mins")
    assert intent(body, goals) == "not_yet"


def test_a_leading_no_that_is_an_idiom_is_not_an_answer() -> None:
    assert command("no worries") is None
    assert command("no more tardes solo en casa") is None


# Done, carefully --------------------------------------------------------------


def test_a_past_verb_about_a_goal_is_done_for_that_goal() -> None:
    found = reading("walked the dog like I said", ("evening walk", "walk the dog", "journal"))
    assert found.intent == "done"
    assert reading("prayed this morning", ("read the big book", "pray")).number == 2
    assert (
        reading("rode my bike to the lake and back", ("bike ride", "clean the kitchen")).number == 1
    )


def test_a_past_verb_about_something_else_is_free_text() -> None:
    assert intent("the power went out for 3 hours, we played board games") == "other"
    assert intent("picked up my pills at the pharmacy", ("take meds", "walk")) == "other"


def test_a_long_text_that_mentions_a_goal_in_passing_is_not_done() -> None:
    body = "the meeting at work ran long and my boss yelled at everyone so I went home and slept"
    assert intent(body, ("go to a meeting",)) == "other"


def test_a_long_text_that_says_the_goal_was_done_is_done() -> None:
    body = "Went to my meeting. Got my 60 day chip tonight and my mom came to watch. Feeling good"
    assert intent(body, ("NA meeting",)) == "done"


def test_grief_in_a_long_text_goes_to_the_specialist_even_with_a_goal_done() -> None:
    body = "the funeral for my aunt was this morning and i am so sad but i went to a meeting after"
    assert command(body, ("go to a meeting",)) is None


def test_done_said_about_the_person_is_not_a_check_in() -> None:
    assert intent("i'm done for the day, heading to bed early") == "other"
    assert intent("done with this, done with everything") != "done"


def test_done_with_the_break_is_resume() -> None:
    assert intent("done with my break") == "resume"


def test_in_x_but_y_the_y_decides() -> None:
    assert command("that walk was so hard but i did it", ("evening walk",)).intent == "done"
    assert intent("late to work again but i did call my sponsor", TWO_GOALS) == "done"


def test_a_yes_taken_back_by_what_follows_is_not_done() -> None:
    assert intent("ya no quiero ir", ("caminar",), language="es") != "done"
    assert intent("ya", ("caminar",), language="es") == "done"
    assert intent("si fui al gym", ("ir al gimnasio",), language="es") == "done"


def test_an_emoji_thumbs_up_in_chat_is_not_done() -> None:
    assert intent("killing it at work lately 💪") == "other"
    assert intent("💪✅") == "done"


def test_no_x_restates_a_goal_of_not_doing_x() -> None:
    goals = ("sleep by 11", "walk after lunch", "no weed")
    assert (
        reading("no weed today. day 12", goals).intent,
        reading("no weed today", goals).number,
    ) == (
        "done",
        3,
    )
    assert intent("smoked inside, it was freezing out", ("no smoking in the house",)) == "not_yet"


def test_late_for_a_goal_of_being_on_time_is_not_yet() -> None:
    assert (
        intent("took my sub late, like 3 hrs late", ("take my suboxone on time", "group"))
        == "not_yet"
    )


# Moods ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "score"),
    [("four", 4), ("FIVE!!!", 5), ("3 idk", 3), ("4, slept good for once", 4), ("ugh 2", 2),
     ("id say 4", 4), ("5 🙌", 5), ("hoy un 2, día pesado", 2),
     ("un cinco hoy, me siento bien", 5)],
)  # fmt: skip
def test_a_score_at_the_edge_of_a_short_text_is_a_mood(body: str, score: int) -> None:
    found = reading(body)
    assert (found.intent, found.number) == ("mood", score)


def test_a_number_with_a_unit_is_not_a_mood() -> None:
    assert intent("took a 2 hour nap") != "mood"
    assert intent("ya van como 5 mensajes hoy") != "mood"


# Peer-owned changes -----------------------------------------------------------


def test_pause_with_a_number_is_days_even_with_several_goals() -> None:
    found = reading("PAUSE 2", ("walk", "call", "journal"))
    assert (found.intent, found.number) == ("pause", 2)


def test_a_break_asked_for_is_a_pause_and_a_break_mentioned_is_not() -> None:
    assert reading("take a break for 48 hrs please").number == 2
    assert intent("need a week break") == "pause"
    assert intent("called my sponsor on my break", TWO_GOALS) == "done"
    assert intent("3 years sober and I threw it all away") != "pause"


def test_a_stop_with_a_length_is_a_pause() -> None:
    assert reading("paren los mensajes 3 dias, tengo mucho trabajo").intent in ("pause", "opt_out")
    assert command("stop the texts for 3 days") is not None


def test_ending_the_pause_is_resume() -> None:
    assert intent("quiten la pausa") == "resume"
    assert intent("ready for the reminders again") == "resume"
    assert intent("working on my resume today") == "other"


def test_a_bare_later_with_fillers_is_later_but_someone_elses_later_is_not() -> None:
    assert intent("later pls, busy") == "later"
    assert intent("try me again after dinner") == "later"
    assert intent("my sponsor said he'd stop by later") == "other"
    assert intent("nope not yet, later tonight") == "not_yet"


def test_questions_about_the_goals_and_the_line() -> None:
    assert intent("what was #2 again") == "goals"
    assert intent("remind me what i signed up for") == "goals"
    assert intent("what do i reply") == "help"
    assert intent("who runs this number") == "help"


def test_fewer_texts_in_natural_words() -> None:
    assert intent("once a day is enough") == "fewer"
    assert intent("could we do every other day instead of daily") == "fewer"


def test_wanting_the_texts_back_opts_in_but_not_wanting_them_never_does() -> None:
    assert intent("i changed my mind, i want the check ins", consent="opted_out") == "opt_in"
    assert command(normalise("i do not want the texts back").text) is None


def test_a_plain_yes_after_opting_out_opts_back_in() -> None:
    assert intent("YES", consent="opted_out") == "opt_in"
    assert intent("sí quiero", consent="opted_out") == "opt_in"
    assert intent("YES", consent="opted_in") == "done"


# Context and goals -------------------------------------------------------------


def test_a_number_with_a_filler_answers_which_goal() -> None:
    found = reading("2 sorry", asked="which_goal:not_yet")
    assert (found.intent, found.number) == ("not_yet", 2)
    assert reading("number one", asked="which_goal:done").number == 1


def test_both_answers_which_goal_for_every_goal() -> None:
    found = reading("both", asked="which_goal:done")
    assert (found.intent, found.number, found.scope) == ("done", None, "all")


def test_a_mood_after_which_goal_is_still_a_mood() -> None:
    found = reading("4 mood", ("walk", "smart meeting", "gratitude list"), asked="which_goal:done")
    assert (found.intent, found.number) == ("mood", 4)


def test_goal_words_match_by_stem_synonym_and_short_name() -> None:
    assert stem("walked") == stem("walking") == stem("walk")
    assert stem("llamé".replace("é", "e")) == stem("llamar")
    assert goal_named("las pastillas", ("ir a NA", "llamar", "tomar mi medicamento")) == 3
    assert goal_named("aa", ("go to AA", "call Dee")) == 1
    assert goal_number("3 lol", 3) == 3


def test_done_with_something_that_is_not_a_goal_is_free_text() -> None:
    goals = ("go to a meeting", "journal", "take my meds")
    assert intent("I finished my community service hours!", goals) == "other"
    assert intent("i went to the store and bought groceries", goals) == "other"
    assert (
        intent("ayer fui al doctor y me dijo que todo bien", ("caminar", "llamar"), language="es")
        == "other"
    )


def test_a_goal_that_was_called_off_is_not_done() -> None:
    assert intent("my meeting with the lawyer got moved to friday", ("go to a meeting",)) == "other"


def test_spanish_si_meaning_if_is_not_a_yes() -> None:
    assert intent("si puedes llámame", ("caminar",), language="es") == "other"


def test_someone_elses_trip_is_news_not_a_pause() -> None:
    assert intent("my sponsor is out of town this week") == "other"
    assert intent("my mom is in the hospital again, i'm scared") != "pause"
    assert intent("going away for two weeks, hold the texts") == "pause"


def test_a_number_after_a_preposition_is_not_a_mood() -> None:
    assert intent("at work until 5") == "other"


def test_back_to_something_is_not_resume() -> None:
    assert intent("I'm back to square one") == "other"
    assert intent("just got back from my walk") == "done"


def test_staying_sober_keeps_a_goal_of_not_drinking() -> None:
    assert intent("stayed sober today", ("morning walk", "no alcohol")) == "done"


def test_part_of_a_goal_is_not_done() -> None:
    assert intent("barely made it halfway up", ("climb",)) == "other"


def test_the_preterite_of_the_goals_own_verb_is_done() -> None:
    assert (
        intent("recé en la mañana como siempre", ("rezar en la mañana",), language="es") == "done"
    )


def test_a_break_from_something_else_is_not_a_pause() -> None:
    assert intent("i need a break from my kids lol") == "other"
    assert intent("can i take a break from the texts for a while") == "pause"
    assert intent("i hold my breath every time my phone buzzes") == "other"


def test_resume_as_a_noun_or_a_past_day_off_is_not_a_command() -> None:
    assert intent("resume writing workshop was helpful") == "other"
    assert intent("took the day off work to see my son") == "other"


def test_too_tired_to_do_the_goal_is_not_yet() -> None:
    assert intent("too sick to walk today", ("morning walk", "call my sponsor")) == "not_yet"
    assert intent("too excited to sleep lol", ("morning walk",)) == "other"


def test_more_ways_to_ask_for_a_pause_later_time_and_fewer() -> None:
    assert reading("give me a couple weeks").intent == "pause"
    assert intent("remind me in 2 hours") == "later"
    assert reading("earlier please, like 8").time == "08:00"
    assert intent("only text me once a week") == "fewer"
    assert intent("the meeting time changed to 7") == "other"


def test_someone_else_doing_it_or_a_feeling_is_not_done() -> None:
    goals = ("walk the dog", "go to group", "journal before bed")
    assert intent("the dog ate my journal lol", goals) == "other"
    assert intent("my group leader is leaving, really bummed", goals) == "other"


def test_a_plan_that_fell_through_is_not_yet() -> None:
    goals = ("walk the dog", "go to group", "journal before bed")
    assert intent("I was going to go to group but my ride fell through", goals) == "not_yet"
    assert intent("i fell asleep before i could journal", goals) == "not_yet"


@pytest.mark.parametrize(
    ("body", "want"),
    [("no me escriban por dos semanas", "pause"), ("ya pueden seguir mandando mensajes", "resume"),
     ("ahorita estoy ocupado, luego", "later"), ("en una hora", "later"),
     ("mándame los mensajes a las 7 de la noche", "time"), ("una vez al día está bien", "fewer"),
     ("hoy no me toca, es mi descanso", "rest"), ("mi padrino se fue de viaje", "other")],
)  # fmt: skip
def test_spanish_changes_in_natural_words(body: str, want: str) -> None:
    assert intent(body, ("caminar 20 minutos", "llamar a mi padrino"), language="es") == want


def test_the_goal_named_before_but_or_in_a_later_request_is_kept() -> None:
    assert reading("IOP was hard today but i went", ("IOP group", "walk the dog")).number == 1
    assert reading("remind me about the walk later", TWO_GOALS).number == 1


# Times as written in Britain and Ireland, in Latin America, and with two times ---------


@pytest.mark.parametrize(
    ("body", "time"),
    [
        ("can you text me at half 6 instead", "18:30"),  # British "half 6" is 6:30
        ("half 11 suits me better", "11:30"),
        ("twenty to six pls", "17:40"),
        ("ten past 7 pm would be good", "19:10"),
        ("please change to 7.30pm", "19:30"),
        ("mejor a las 19h30", "19:30"),
        ("puede ser a las 17hs?", "17:00"),
        ("around 1ish works", "13:00"),
        ("1815 works best for me", "18:15"),
        # With two times in the text, the one asked for.
        ("please stop texting me at 6am, 9 is better", "09:00"),
        ("I get up at 4, send it at five thirty", "17:30"),
        ("deja de mandarme a las 7 de la mañana, mejor a las 10", "10:00"),
        ("can you do 3pm instead of 11", "15:00"),
    ],
)
def test_times_written_in_other_ways_move_the_check_in(body: str, time: str) -> None:
    found = reading(body)
    assert (found.intent, found.time) == ("time", time)


def test_a_count_with_a_dot_or_an_h_is_not_a_time() -> None:
    assert find_clock(normalise("half an hour").text) is None
    assert normalise("2.5 out of 5").text.startswith("2 5")
    assert find_clock(normalise("give me 3h").text) is None
