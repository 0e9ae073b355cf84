"""The kiosk's journey stepped by hand: every screen change, without a window or a clock."""

from __future__ import annotations

import pytest

from appliance.core.catalogue import Product, SoldBy
from appliance.core.payment import PaymentOutcome
from appliance.core.weighing import Reading, ReadingStatus, ScaleSpec
from appliance.kiosk.flows.browse import Browse
from appliance.kiosk.flows.events import (
    Action,
    CatalogueLoaded,
    PaymentAnswered,
    PrinterChanged,
    ReadingArrived,
    StoreDamaged,
    TerminalChanged,
    TimerFired,
    Touched,
)
from appliance.kiosk.flows.intentions import (
    AskForHelp,
    Charge,
    PrintLabel,
    PrintReceipt,
    RecordAbandoned,
    RecordWeighing,
    SetArticle,
)
from appliance.kiosk.flows.journey import THANK_YOU_S, Screen
from appliance.kiosk.flows.kiosk import HELP_REPEAT_S, HELP_SHOWN_S, IDLE_GRACE_S, KioskFlow
from appliance.kiosk.flows.values import (
    PaperState,
    Settings,
)
from appliance.kiosk.flows.weigh import UNSTABLE_LIMIT_S
from appliance.kiosk.i18n import translator
from appliance.kiosk.view import spoken, weigh_texts

APPLES = Product("pommes", "Pommes Gala", SoldBy.WEIGHT, 349, 550, category="Fruits")
PEACHES = Product("peches", "Pêches", SoldBy.WEIGHT, 590, 550, category="Fruits")
EGGS = Product("oeufs", "Œufs x6", SoldBy.PIECE, 320, 550, category="Crèmerie", producer="Ferme")
HIDDEN = Product("old", "Ancien", SoldBy.PIECE, 100, 550, active=False)
SPEC = ScaleSpec(interval_g=2, capacity_g=15000, min_load_g=40)


def stable(grams: int) -> ReadingArrived:
    return ReadingArrived(Reading(ReadingStatus.STABLE, grams))


MOVING = ReadingArrived(Reading(ReadingStatus.MOTION))


class Kiosk:
    """The kiosk's flow (its one dispatcher) with a hand-driven clock."""

    def __init__(self, *, payment: bool = True, idle: float = 60.0) -> None:
        self.flow = KioskFlow(Settings(SPEC, idle, "fr", payment_enabled=payment))
        self.now = 0.0
        self.send(CatalogueLoaded((APPLES, PEACHES, EGGS, HIDDEN)))
        self.send(stable(0))

    def send(self, event, after: float = 0.0) -> list:
        self.now += after
        return self.flow.handle(event, self.now)

    @property
    def journey(self):
        return self.flow.journey

    def touch(self, action: Action, argument: str = "") -> list:
        return self.send(Touched(action, argument), after=1.0)

    @property
    def screen(self) -> Screen:
        return self.journey.screen

    def weigh_apples(self, grams: int = 1234) -> list:
        self.touch(Action.START)
        self.touch(Action.PRODUCT, "pommes")
        self.send(stable(grams))
        return self.touch(Action.ADD)


def test_start_goes_from_home_to_the_product_grid():
    kiosk = Kiosk()
    assert kiosk.screen is Screen.HOME
    kiosk.touch(Action.START)
    assert kiosk.screen is Screen.CATALOGUE


def test_grid_hides_inactive_products_and_filters_by_category_and_search():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    browse = kiosk.journey.browse
    assert browse.visible == (APPLES, PEACHES, EGGS)
    assert browse.categories == ("Crèmerie", "Fruits")
    kiosk.touch(Action.CATEGORY, "Fruits")
    assert browse.visible == (APPLES, PEACHES)
    kiosk.touch(Action.SEARCH, "peche")
    assert browse.visible == (PEACHES,)
    kiosk.touch(Action.CATEGORY, "")
    kiosk.touch(Action.SEARCH, "ferme")
    assert browse.visible == (EGGS,)


def test_unknown_category_shows_everything():
    browse = Browse((APPLES, EGGS))
    browse.category = ""
    assert browse.visible == (APPLES, EGGS)
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.CATEGORY, "Nope")
    assert kiosk.journey.browse.category == ""


def test_choosing_a_weighed_product_opens_the_weigh_screen_and_tells_the_scale():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    intentions = kiosk.touch(Action.PRODUCT, "pommes")
    assert kiosk.screen is Screen.WEIGH
    assert intentions == [SetArticle(APPLES)]


def test_an_unknown_product_is_ignored():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    assert kiosk.touch(Action.PRODUCT, "nope") == []
    assert kiosk.screen is Screen.CATALOGUE


def test_weight_unit_price_and_price_are_shown_together_on_every_stable_reading():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(stable(1000))
    live = kiosk.journey.panel.live
    assert (live.weight_g, live.unit_price_cents, live.price_cents) == (1000, 349, 349)
    kiosk.send(stable(1234))
    live = kiosk.journey.panel.live
    assert (live.weight_g, live.price_cents) == (1234, 431)  # 4.3066 € rounded half-up


def test_weight_in_motion_is_never_priced():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(stable(1000))
    kiosk.send(MOVING)
    live = kiosk.journey.panel.live
    assert live.weight_g is None and live.price_cents is None
    kiosk.touch(Action.ADD)
    assert kiosk.screen is Screen.WEIGH
    assert kiosk.journey.lines == []
    assert "moving" in kiosk.journey.panel.notice


def test_below_minimum_shows_the_weight_but_no_price_and_cannot_be_added():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(stable(20))
    live = kiosk.journey.panel.live
    assert (live.status, live.weight_g, live.price_cents) == (ReadingStatus.BELOW_MIN, 20, None)
    kiosk.touch(Action.ADD)
    assert kiosk.journey.lines == [] and "minimum" in kiosk.journey.panel.notice


def test_adding_a_weighing_puts_a_line_in_the_basket():
    kiosk = Kiosk()
    (record,) = kiosk.weigh_apples(1234)
    assert isinstance(record, RecordWeighing)
    assert kiosk.screen is Screen.BASKET
    (line,) = kiosk.journey.lines
    assert (line.product, line.price_cents, line.weighing.weight_g) == (APPLES, 431, 1234)
    assert kiosk.journey.total_cents == 431


def test_the_same_load_cannot_be_weighed_twice():
    kiosk = Kiosk()
    kiosk.weigh_apples(1234)
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "peches")
    assert kiosk.journey.panel.live.status is ReadingStatus.UNCHANGED
    kiosk.touch(Action.ADD)
    assert len(kiosk.journey.lines) == 1
    assert "already weighed" in kiosk.journey.panel.notice
    kiosk.send(stable(0))
    kiosk.send(stable(800))
    kiosk.touch(Action.ADD)
    assert [line.product for line in kiosk.journey.lines] == [APPLES, PEACHES]


def test_print_label_adds_the_line_and_asks_for_a_label():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(stable(500))
    record, intention = kiosk.touch(Action.PRINT_LABEL)
    assert isinstance(record, RecordWeighing) and record.line == intention.line
    assert isinstance(intention, PrintLabel)
    assert intention.line.price_cents == 175 and intention.line.weighing.weight_g == 500
    assert kiosk.journey.lines == [intention.line]


def test_tare_makes_the_weight_net_and_clears_when_the_pan_is_emptied():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(stable(120))
    kiosk.touch(Action.TARE)
    kiosk.send(stable(1120))
    live = kiosk.journey.panel.live
    assert (live.weight_g, live.tare_g, live.net, live.price_cents) == (1000, 120, True, 349)
    kiosk.send(stable(0))
    assert kiosk.journey.panel.gate.tare_g == 0


def test_tare_on_an_empty_pan_is_refused_with_a_reason():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.touch(Action.TARE)
    assert "container" in kiosk.journey.panel.notice
    kiosk.send(stable(300))
    kiosk.touch(Action.TARE)
    kiosk.touch(Action.CLEAR_TARE)
    assert "empty the scale" in kiosk.journey.panel.notice
    assert kiosk.journey.panel.gate.tare_g == 300


def test_a_piece_product_counts_pieces_and_prices_them():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    assert kiosk.touch(Action.PRODUCT, "oeufs") == []
    assert kiosk.screen is Screen.PIECES
    kiosk.touch(Action.LESS)
    assert kiosk.journey.quantity == 1
    kiosk.touch(Action.MORE)
    kiosk.touch(Action.MORE)
    assert kiosk.journey.pieces_price_cents == 960
    kiosk.touch(Action.ADD)
    (line,) = kiosk.journey.lines
    assert (line.quantity, line.price_cents, line.weighing) == (3, 960, None)


def test_pieces_stop_at_the_maximum():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "oeufs")
    for _ in range(120):
        kiosk.touch(Action.MORE)
    assert kiosk.journey.quantity == 99
    assert isinstance(kiosk.touch(Action.PRINT_LABEL)[0], PrintLabel)


def test_back_walks_the_journey_backwards():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "oeufs")
    kiosk.touch(Action.BACK)
    assert kiosk.screen is Screen.CATALOGUE and kiosk.journey.product is None
    kiosk.touch(Action.BACK)
    assert kiosk.screen is Screen.HOME
    kiosk.weigh_apples()
    kiosk.touch(Action.BACK)
    assert kiosk.screen is Screen.CATALOGUE
    kiosk.touch(Action.BACK)
    assert kiosk.screen is Screen.BASKET
    kiosk.touch(Action.START)
    assert kiosk.screen is Screen.CATALOGUE
    kiosk.touch(Action.BASKET)
    assert kiosk.screen is Screen.BASKET


def test_about_shows_and_returns_home():
    kiosk = Kiosk()
    kiosk.touch(Action.ABOUT)
    assert kiosk.screen is Screen.ABOUT
    kiosk.touch(Action.BACK)
    assert kiosk.screen is Screen.HOME


def test_language_switches_on_a_button_and_resets_for_the_next_customer():
    kiosk = Kiosk()
    kiosk.touch(Action.LANGUAGE, "en")
    assert kiosk.journey.language == "en"
    kiosk.touch(Action.LANGUAGE, "xx")
    assert kiosk.journey.language == "fr"
    kiosk.touch(Action.LANGUAGE, "en")
    kiosk.touch(Action.ABOUT)
    kiosk.touch(Action.BACK)
    assert kiosk.journey.language == "fr"


def test_removing_a_line_updates_the_total():
    kiosk = Kiosk()
    kiosk.weigh_apples(1000)
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "oeufs")
    kiosk.touch(Action.ADD)
    assert kiosk.journey.total_cents == 349 + 320
    kiosk.touch(Action.REMOVE, "5")
    kiosk.touch(Action.REMOVE, "0")
    assert kiosk.journey.total_cents == 320


def test_paying_an_empty_basket_does_nothing():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.BASKET)
    assert kiosk.touch(Action.PAY) == []
    assert kiosk.screen is Screen.BASKET


def test_an_approved_payment_shows_the_receipt_prints_it_and_says_thank_you():
    kiosk = Kiosk()
    kiosk.weigh_apples(1000)
    (charge,) = kiosk.touch(Action.PAY)
    assert charge == Charge(349, tuple(kiosk.journey.lines))
    assert kiosk.screen is Screen.PAYING
    kiosk.send(TimerFired(), after=1000)
    assert not kiosk.flow.idle_prompt  # nobody is hurried while the terminal works
    answer = PaymentAnswered(PaymentOutcome.APPROVED, 349, receipt_number="K1-000001")
    assert kiosk.send(answer) == [PrintReceipt("K1-000001")]
    assert kiosk.screen is Screen.RECEIPT and kiosk.journey.lines == []
    kiosk.touch(Action.DONE)
    assert kiosk.screen is Screen.THANK_YOU
    kiosk.send(TimerFired(), after=THANK_YOU_S)
    assert kiosk.screen is Screen.HOME


def test_thank_you_can_be_left_by_a_touch():
    kiosk = Kiosk()
    kiosk.weigh_apples()
    kiosk.touch(Action.PAY)
    kiosk.send(PaymentAnswered(PaymentOutcome.APPROVED, 431, receipt_number="1"))
    kiosk.touch(Action.DONE)
    kiosk.touch(Action.DONE)
    assert kiosk.screen is Screen.HOME


@pytest.mark.parametrize(
    "outcome", [PaymentOutcome.DECLINED, PaymentOutcome.ABANDONED, PaymentOutcome.TIMEOUT]
)
def test_a_failed_payment_keeps_the_basket_and_offers_to_try_again(outcome):
    kiosk = Kiosk()
    kiosk.weigh_apples(1000)
    kiosk.touch(Action.PAY)
    assert kiosk.send(PaymentAnswered(outcome, 349)) == []
    assert kiosk.screen is Screen.PAYMENT_FAILED and kiosk.journey.outcome is outcome
    assert len(kiosk.journey.lines) == 1
    assert isinstance(kiosk.touch(Action.RETRY)[0], Charge)
    kiosk.send(PaymentAnswered(outcome, 349))
    kiosk.touch(Action.BACK)
    assert kiosk.screen is Screen.BASKET


def test_a_sale_the_box_cannot_record_says_out_of_order_not_terminal_unavailable():
    """Regression: a full disk read as 'Card terminal unavailable', sending the customer to
    another card; nothing was charged and nothing can be recorded, so the kiosk is out of order."""
    kiosk = Kiosk()
    kiosk.weigh_apples(1000)
    kiosk.touch(Action.PAY)
    kiosk.send(PaymentAnswered(PaymentOutcome.ERROR, 349, cannot_record=True))
    assert kiosk.screen is Screen.OUT_OF_ORDER
    assert kiosk.journey.lines == []
    kiosk.touch(Action.DONE)
    assert kiosk.screen is Screen.HOME


def test_an_unknown_outcome_stops_the_sale_and_never_offers_to_pay_again():
    kiosk = Kiosk()
    kiosk.weigh_apples(1000)
    kiosk.touch(Action.PAY)
    kiosk.send(PaymentAnswered(PaymentOutcome.UNKNOWN, 349))
    assert kiosk.screen is Screen.PAYMENT_UNKNOWN
    assert kiosk.journey.lines == []
    assert kiosk.touch(Action.RETRY) == []
    kiosk.touch(Action.DONE)
    assert kiosk.screen is Screen.HOME


def test_a_terminal_error_is_the_terminal_unavailable_screen_and_it_recovers():
    kiosk = Kiosk()
    kiosk.weigh_apples(1000)
    kiosk.touch(Action.PAY)
    kiosk.send(PaymentAnswered(PaymentOutcome.ERROR, 349))
    assert kiosk.screen is Screen.TERMINAL_UNAVAILABLE
    kiosk.send(TerminalChanged(False))
    assert kiosk.touch(Action.RETRY) == []
    kiosk.send(TerminalChanged(True))
    assert kiosk.screen is Screen.BASKET


def test_a_late_payment_answer_is_ignored_outside_the_paying_screen():
    kiosk = Kiosk()
    kiosk.weigh_apples(1000)
    assert kiosk.send(PaymentAnswered(PaymentOutcome.APPROVED, 349, receipt_number="9")) == []
    assert kiosk.screen is Screen.BASKET


def test_paper_out_is_said_before_payment_and_the_customer_may_pay_without_a_receipt():
    kiosk = Kiosk()
    kiosk.weigh_apples(1000)
    kiosk.send(PrinterChanged(PaperState.OUT))
    assert kiosk.touch(Action.PAY) == []
    assert kiosk.screen is Screen.PAPER_OUT
    kiosk.touch(Action.BACK)
    assert kiosk.screen is Screen.BASKET
    kiosk.touch(Action.PAY)
    assert isinstance(kiosk.touch(Action.CONTINUE_WITHOUT)[0], Charge)
    answer = PaymentAnswered(PaymentOutcome.APPROVED, 349, receipt_number="2")
    assert kiosk.send(answer) == []
    assert kiosk.screen is Screen.RECEIPT


def test_paper_out_on_print_label_offers_to_continue_without_a_label():
    kiosk = Kiosk()
    kiosk.send(PrinterChanged(PaperState.OUT))
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(stable(700))
    assert kiosk.touch(Action.PRINT_LABEL) == []
    assert kiosk.screen is Screen.PAPER_OUT and kiosk.journey.lines == []
    kiosk.touch(Action.BACK)
    assert kiosk.screen is Screen.WEIGH
    kiosk.touch(Action.PRINT_LABEL)
    (record,) = kiosk.touch(Action.CONTINUE_WITHOUT)  # recorded, but no label asked
    assert isinstance(record, RecordWeighing)
    assert kiosk.screen is Screen.BASKET and len(kiosk.journey.lines) == 1


def test_paper_coming_back_leaves_the_paper_screen_by_itself():
    kiosk = Kiosk()
    kiosk.weigh_apples(1000)
    kiosk.send(PrinterChanged(PaperState.OFFLINE))
    kiosk.touch(Action.PAY)
    kiosk.send(PrinterChanged(PaperState.NEAR_END))
    assert kiosk.screen is Screen.BASKET


def test_the_terminal_unavailable_before_paying_is_said_at_once():
    kiosk = Kiosk()
    kiosk.weigh_apples(1000)
    kiosk.send(TerminalChanged(False))
    assert kiosk.touch(Action.PAY) == []
    assert kiosk.screen is Screen.TERMINAL_UNAVAILABLE
    kiosk.touch(Action.BACK)
    assert kiosk.screen is Screen.BASKET


def test_without_a_terminal_the_kiosk_labels_but_takes_no_payment():
    kiosk = Kiosk(payment=False)
    kiosk.touch(Action.START)
    kiosk.touch(Action.BASKET)
    assert kiosk.screen is Screen.CATALOGUE
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(stable(600))
    record, label = kiosk.touch(Action.ADD)
    assert isinstance(record, RecordWeighing)
    assert isinstance(label, PrintLabel)
    assert kiosk.screen is Screen.CATALOGUE and kiosk.journey.lines == []
    kiosk.journey.lines.append(label.line)
    kiosk.journey._screen = Screen.BASKET
    kiosk.touch(Action.PAY)
    assert kiosk.screen is Screen.NO_PAYMENT
    kiosk.touch(Action.DONE)
    assert kiosk.screen is Screen.HOME


def test_scale_missing_overloaded_and_unstable_are_screens_that_recover():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(ReadingArrived(Reading(ReadingStatus.TIMEOUT)))
    assert kiosk.screen is Screen.SCALE_MISSING
    kiosk.send(stable(100))
    assert kiosk.screen is Screen.WEIGH
    kiosk.send(ReadingArrived(Reading(ReadingStatus.OVERLOAD)))
    assert kiosk.screen is Screen.SCALE_OVERLOAD
    kiosk.send(MOVING)
    assert kiosk.screen is Screen.WEIGH
    kiosk.send(MOVING, after=UNSTABLE_LIMIT_S / 2)
    kiosk.send(TimerFired(), after=UNSTABLE_LIMIT_S / 2)
    assert kiosk.screen is Screen.SCALE_UNSTABLE
    kiosk.send(MOVING, after=1)
    assert kiosk.screen is Screen.SCALE_UNSTABLE
    kiosk.send(stable(100))
    assert kiosk.screen is Screen.WEIGH


def test_a_scale_problem_screen_offers_back_to_the_products():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(ReadingArrived(Reading(ReadingStatus.ERROR)))
    assert kiosk.screen is Screen.SCALE_MISSING
    kiosk.touch(Action.BACK)
    assert kiosk.screen is Screen.CATALOGUE


def test_a_scale_problem_while_browsing_is_not_a_screen():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.send(ReadingArrived(Reading(ReadingStatus.TIMEOUT)))
    assert kiosk.screen is Screen.CATALOGUE


def test_idle_asks_first_then_returns_home_and_clears_the_basket():
    kiosk = Kiosk(idle=30)
    kiosk.weigh_apples(1000)
    kiosk.send(TimerFired(), after=29)
    assert not kiosk.flow.idle_prompt
    kiosk.send(TimerFired(), after=1)
    assert kiosk.flow.idle_prompt and kiosk.screen is Screen.BASKET
    left = kiosk.send(TimerFired(), after=IDLE_GRACE_S)
    assert kiosk.screen is Screen.HOME and kiosk.journey.lines == []
    assert not kiosk.flow.idle_prompt
    assert [(type(i), i.why, len(i.lines)) for i in left] == [(RecordAbandoned, "idle", 1)]


def test_a_touch_on_the_idle_prompt_keeps_the_basket():
    kiosk = Kiosk(idle=30)
    kiosk.weigh_apples(1000)
    kiosk.send(TimerFired(), after=31)
    assert kiosk.flow.idle_prompt
    kiosk.touch(Action.STILL_HERE)
    kiosk.send(TimerFired(), after=IDLE_GRACE_S)
    assert kiosk.screen is Screen.BASKET and len(kiosk.journey.lines) == 1


def test_home_never_asks_if_anyone_is_still_there():
    kiosk = Kiosk(idle=30)
    kiosk.send(TimerFired(), after=1000)
    assert not kiosk.flow.idle_prompt and kiosk.screen is Screen.ATTRACT


def test_a_price_computing_scale_is_shown_and_sold_exactly_as_it_sent():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    reading = Reading(ReadingStatus.STABLE, 1000, unit_price_cents=350, price_cents=351)
    kiosk.send(ReadingArrived(reading))
    live = kiosk.journey.panel.live
    assert (live.unit_price_cents, live.price_cents) == (350, 351)
    kiosk.touch(Action.ADD)
    assert kiosk.journey.lines[0].price_cents == 351


def test_every_accepted_weighing_is_recorded_even_without_a_label():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(stable(700))
    (record,) = kiosk.touch(Action.ADD)
    assert isinstance(record, RecordWeighing)
    assert record.line.weighing.weight_g == 700 and record.line.weighing.price_cents == 244


def test_pieces_are_not_weighings_and_record_nothing():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "oeufs")
    assert kiosk.touch(Action.ADD) == []


def test_the_weigh_buttons_wait_for_produce_and_a_stable_weight_and_say_so():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    english = translator("en")

    def texts():
        return weigh_texts(kiosk.journey, SPEC.interval_g, english)

    assert (texts().ready, texts().status) == (False, "Put your produce on the scale")
    kiosk.send(MOVING)
    assert (texts().ready, texts().status) == (False, "Wait until the weight is stable")
    kiosk.send(stable(20))
    assert not texts().ready and "add some more" in texts().status
    kiosk.send(stable(1234))
    assert (texts().ready, texts().price) == (True, "4,31 €")


def test_a_printed_label_is_said_on_the_basket_until_the_next_touch():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(stable(1234))
    kiosk.touch(Action.PRINT_LABEL)
    assert kiosk.screen is Screen.BASKET
    assert kiosk.journey.notice.startswith("Label printed")
    assert kiosk.journey.lines[0].labelled
    kiosk.touch(Action.REMOVE, "5")
    assert kiosk.journey.notice == ""


def test_cancelling_the_basket_goes_home_and_records_the_unpaid_labels():
    kiosk = Kiosk()
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(stable(1234))
    kiosk.touch(Action.PRINT_LABEL)
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "oeufs")
    kiosk.touch(Action.ADD)
    (left,) = kiosk.touch(Action.CANCEL)
    assert kiosk.screen is Screen.HOME and kiosk.journey.lines == []
    assert isinstance(left, RecordAbandoned) and left.why == "cancelled"
    assert [line.labelled for line in left.lines] == [True, False]
    assert kiosk.touch(Action.START) == [] and kiosk.touch(Action.BASKET) == []
    assert kiosk.touch(Action.CANCEL) == []  # an empty basket: home, nothing to record
    assert kiosk.screen is Screen.HOME


def test_help_alerts_once_with_what_the_customer_was_doing_and_closes_by_itself():
    kiosk = Kiosk()
    kiosk.weigh_apples(1000)
    (asked,) = kiosk.touch(Action.HELP)
    assert asked == AskForHelp("basket", "", 1, 349, "fr")
    assert kiosk.flow.help_shown and kiosk.screen is Screen.BASKET
    kiosk.touch(Action.CLOSE_HELP)
    assert not kiosk.flow.help_shown
    assert kiosk.touch(Action.HELP) == []  # shown again, the producer already alerted
    kiosk.send(TimerFired(), after=HELP_SHOWN_S)
    assert not kiosk.flow.help_shown
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    kiosk.send(TimerFired(), after=HELP_REPEAT_S)
    (again,) = kiosk.touch(Action.HELP)
    assert (again.doing, again.product) == ("weigh", "Pommes Gala")


def test_home_left_alone_shows_the_attract_screen_and_a_touch_there_is_home():
    kiosk = Kiosk(idle=30)
    kiosk.send(TimerFired(), after=29)
    assert kiosk.screen is Screen.HOME
    kiosk.send(TimerFired(), after=1)
    assert kiosk.screen is Screen.ATTRACT and kiosk.flow.idle
    assert kiosk.touch(Action.WAKE) == [] and kiosk.screen is Screen.HOME
    kiosk.send(TimerFired(), after=31)
    kiosk.touch(Action.START)  # any touch wakes it and does what it asks on home
    assert kiosk.screen is Screen.CATALOGUE


def test_a_basket_left_alone_goes_home_then_to_the_attract_screen():
    kiosk = Kiosk(idle=30)
    kiosk.weigh_apples(1000)
    kiosk.send(TimerFired(), after=31)
    kiosk.send(TimerFired(), after=IDLE_GRACE_S)
    assert kiosk.screen is Screen.HOME
    kiosk.send(TimerFired(), after=0.5)
    assert kiosk.screen is Screen.ATTRACT and kiosk.journey.lines == []


def test_the_accessibility_mode_says_the_weighing_and_payment_steps():
    kiosk = Kiosk()
    english = translator("en")

    def said() -> str:
        return spoken(kiosk.journey, SPEC.interval_g, english)

    assert said() == ""  # home: nothing to say
    kiosk.touch(Action.START)
    kiosk.touch(Action.PRODUCT, "pommes")
    assert said() == "Put your produce on the scale"
    kiosk.send(stable(1234))
    assert said() == "Stable weight. Weight 1,234 kg, price 4,31 €."
    kiosk.touch(Action.ADD)
    assert said() == "Total 4,31 €. Touch pay by card at the bottom right."
    kiosk.touch(Action.PAY)
    assert said().startswith("Pay by card. Follow the instructions on the card terminal.")


def test_a_damaged_database_refuses_every_sale_until_it_is_repaired():
    kiosk = Kiosk()
    kiosk.weigh_apples(1000)
    kiosk.send(StoreDamaged(frozenset({"sales"})))
    assert kiosk.touch(Action.PAY) == [] and kiosk.screen is Screen.OUT_OF_ORDER
    assert kiosk.journey.lines == []  # nothing charged, nothing kept to pay later
    kiosk.touch(Action.DONE)
    assert kiosk.screen is Screen.HOME
    kiosk.touch(Action.START)
    assert kiosk.screen is Screen.OUT_OF_ORDER
    kiosk.send(StoreDamaged(frozenset()))
    assert kiosk.screen is Screen.HOME
    kiosk.touch(Action.START)
    assert kiosk.screen is Screen.CATALOGUE
