import re
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# The largest primary key any backend stores (signed 64-bit): a bigger id is malformed input, not a query
# that overflows the database driver.
MAX_DB_ID = 2**63 - 1
# A UUID as the API writes it: uuid.UUID() would also take braces, "urn:uuid:", no dashes and full-width digits.
UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class Category(models.TextChoices):
    MENU = "menu", "메뉴"
    DRINKS = "drinks", "음료"


class OrderStatus(models.TextChoices):
    PRE_ORDER = "pre_order", "결제 대기"
    COMPLETED = "completed", "주문 완료"
    CANCELLED = "cancelled", "취소"


class KitchenStatus(models.TextChoices):
    QUEUED = "queued", "대기"
    COOKING = "cooking", "조리중"
    SERVED = "served", "서빙완료"


class Station(models.TextChoices):
    KITCHEN = "kitchen", "주방"
    BAR = "bar", "바"


def station_for(category: str) -> str:
    """A new food's station when staff name none: drinks are poured at the bar, the rest cooked."""
    return Station.BAR if category == Category.DRINKS else Station.KITCHEN


def kitchen_status_of(statuses) -> str:
    """An order's (or a station's) status from its lines' (CONTRACT.md section 3)."""
    statuses = set(statuses)
    if statuses == {KitchenStatus.SERVED}:
        return KitchenStatus.SERVED
    if statuses <= {KitchenStatus.QUEUED}:
        return KitchenStatus.QUEUED
    return KitchenStatus.COOKING


def ticket_tenths(paid_at, served_at) -> int:
    """A served line's ticket time, paid to served, in tenths of a second (the night report's unit); never
    negative, should two processes' clocks disagree by a moment."""
    return max(0, round((served_at - paid_at).total_seconds() * 10))


class Food(models.Model):
    name = models.CharField("이름", max_length=100)
    price = models.PositiveIntegerField("가격(원)")
    category = models.CharField("분류", max_length=10, choices=Category.choices, default=Category.MENU)
    description = models.TextField("설명", blank=True, default="")
    image = models.CharField("이미지 URL", max_length=500, blank=True, default="")
    sold_out = models.BooleanField("품절", default=False)
    stock = models.PositiveIntegerField("남은 수량", null=True, blank=True, help_text="비우면 수량을 세지 않습니다.")
    display_order = models.PositiveIntegerField("표시 순서", default=0)
    station = models.CharField(
        "준비하는 곳", max_length=10, choices=Station.choices, blank=True, help_text="비우면 분류에 따라 정합니다."
    )
    updated_at = models.DateTimeField("수정 시각", auto_now=True)
    # Grows with every change of the food: of two states of it that cross between server processes, the
    # higher is the newer (realtime.hub writes no older state to the sockets after a newer one).
    version = models.PositiveBigIntegerField("버전", default=1, editable=False)

    class Meta:
        ordering = ["category", "display_order", "id"]
        verbose_name = verbose_name_plural = "음식"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.station:
            self.station = station_for(self.category)
        if self.pk is None:  # a new food: its first version
            return super().save(*args, **kwargs)
        # Raised by the database, so that a save from an instance read long ago never goes back in versions.
        self.version = F("version") + 1
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)
        self.refresh_from_db(fields=["version"])


def table_starts_open() -> bool:
    """With TABLE_OPENING=required a table made anywhere (API, seed, admin) waits for staff to open it."""
    return not settings.TABLE_OPENING_REQUIRED


class Table(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField("테이블명", max_length=50, unique=True)
    created_at = models.DateTimeField("만든 시각", auto_now_add=True)
    is_open = models.BooleanField("영업 중", default=table_starts_open)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "테이블"

    def __str__(self) -> str:
        return self.name


# On the kitchen board: an order of a current tab, or one paid after a reset ended its session (the food is
# paid for and must be made; only a later reset takes it off). Order.on_board says the same of one in hand.
ON_BOARD = Q(archived_at__isnull=True) | Q(paid_at__gt=F("archived_at"))
# Refunded whole: nothing left to make or to serve, so not a ticket (static/js/board.js says the same).
FULLY_REFUNDED = Q(total_amount__gt=0, refunded_amount__gte=F("total_amount"))


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_number = models.CharField("주문번호", max_length=22, unique=True)
    table = models.ForeignKey(Table, on_delete=models.PROTECT, related_name="orders", verbose_name="테이블")
    status = models.CharField("상태", max_length=12, choices=OrderStatus.choices, default=OrderStatus.COMPLETED)
    kitchen_status = models.CharField(
        "조리 상태", max_length=10, choices=KitchenStatus.choices, default=KitchenStatus.QUEUED
    )
    payer_name = models.CharField("입금자명", max_length=20, blank=True, default="")
    total_amount = models.PositiveIntegerField("합계(원)")
    refunded_amount = models.PositiveIntegerField("환불액(원)", default=0)
    # A default rather than auto_now_add: the order service writes the same instant as a direct order's paid_at.
    order_date = models.DateTimeField("주문 시각", default=timezone.now, editable=False, db_index=True)
    paid_at = models.DateTimeField("결제 시각", null=True, blank=True)
    expires_at = models.DateTimeField("만료 시각", null=True, blank=True)
    archived_at = models.DateTimeField("정리 시각", null=True, blank=True, help_text="테이블 초기화로 탭에서 빠진 시각")
    # "<payer_name>:<total_amount>" while the pre-order awaits payment, else NULL. Unique, so that two
    # pending pre-orders never share a payer name and amount and every deposit has one match.
    pending_match_key = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)
    # The hash of the guest's Idempotency-Key: a phone that lost the answer sends the order again and is
    # answered with this one (ordering.services.order_create_once). Unique, so a resend racing its first send loses.
    client_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    # Discord outbox: claimed by a conditional UPDATE (lease), marked after a successful send.
    discord_notified = models.BooleanField("디스코드 알림 보냄", default=False)
    discord_attempts = models.PositiveSmallIntegerField("디스코드 시도 횟수", default=0)
    discord_next_attempt_at = models.DateTimeField("디스코드 다음 시도", null=True, blank=True)

    class Meta:
        ordering = ["-order_date"]
        verbose_name = verbose_name_plural = "주문"
        indexes = [
            # a table's current tab
            models.Index(fields=["table", "archived_at", "order_date"], name="order_table_tab_idx"),
            # open kitchen tickets
            models.Index(fields=["status", "kitchen_status", "paid_at"], name="order_kitchen_idx"),
            # deposit matching and the payer-name guard
            models.Index(fields=["status", "payer_name", "total_amount"], name="order_pending_match_idx"),
            # expiry sweep
            models.Index(fields=["status", "expires_at"], name="order_expiry_idx"),
            # the night report: completed orders by payment time, with the sums read from the index alone
            models.Index(fields=["status", "paid_at", "total_amount", "refunded_amount"], name="order_paid_idx"),
            # Discord outbox
            models.Index(
                fields=["discord_notified", "status", "discord_next_attempt_at"],
                name="order_discord_outbox_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("total_amount")), name="order_refund_within_total"
            ),
        ]

    # The lines and refunds an order is rendered from, when whoever read or wrote it attached them
    # (selectors.with_lines; services.order_create_locked, which renders what it has just written). Plain
    # lists whose rows hold no reference back to the order, unlike prefetch_related's: an order read is freed
    # as soon as it is rendered, not left to the cyclic garbage collector (see docs/benchmarks.md).
    attached_lines: list | None = None
    attached_refunds: list | None = None
    # True when core.idempotency.create_once answered a guest's resent Idempotency-Key with this order.
    resent = False

    def __str__(self) -> str:
        return self.order_number

    @property
    def on_board(self) -> bool:
        return self.archived_at is None or (self.paid_at is not None and self.paid_at > self.archived_at)

    @property
    def lines(self):
        return self.attached_lines if self.attached_lines is not None else self.items.all()

    @property
    def refund_lines(self):
        return self.attached_refunds if self.attached_refunds is not None else self.refunds.all()

    def refunded_by_food(self) -> dict[int, int]:
        """Units refunded so far, per food."""
        refunded: dict[int, int] = {}
        for refund in self.refund_lines:
            refunded[refund.food_id] = refunded.get(refund.food_id, 0) + refund.quantity
        return refunded

    def lines_to_make(self) -> list["OrderItem"]:
        """The lines not refunded whole: what a kitchen or a bar still has to make or has made. A line refunded
        whole is nobody's to make, and the order's kitchen_status follows the others (static/js/board.js and
        selectors.kitchen_open_orders say the same)."""
        refunded = self.refunded_by_food()
        return [line for line in self.lines if line.quantity > refunded.get(line.food_id, 0)]

    def kitchen_status_from_lines(self) -> str:
        """kitchen_status of the lines to make; of all lines when every one was refunded (then off the board)."""
        lines = self.lines_to_make() or list(self.lines)
        return kitchen_status_of(line.kitchen_status for line in lines)


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items", verbose_name="주문")
    food = models.ForeignKey(Food, on_delete=models.PROTECT, related_name="+", verbose_name="메뉴")
    # Frozen at order time: later menu edits never alter an order.
    food_name = models.CharField("메뉴명", max_length=100)
    unit_price = models.PositiveIntegerField("단가(원)")
    quantity = models.PositiveSmallIntegerField("수량")
    # Kept per line: a ticket with food and drinks is cooked in the kitchen and poured at the bar, each
    # screen moving its own lines; the order's kitchen_status follows from them (kitchen_status_of).
    station = models.CharField("준비하는 곳", max_length=10, choices=Station.choices, default=Station.KITCHEN)
    kitchen_status = models.CharField(
        "조리 상태", max_length=10, choices=KitchenStatus.choices, default=KitchenStatus.QUEUED
    )
    started_at = models.DateTimeField("조리 시작 시각", null=True, blank=True)
    served_at = models.DateTimeField("서빙 시각", null=True, blank=True)  # cleared by a recall
    # The order's paid_at, written with it (NULL until the order is completed): the night report sums the
    # night's lines from one index without joining every line to its order.
    paid_at = models.DateTimeField("결제 시각", null=True, blank=True, editable=False)
    # ticket_tenths(paid_at, served_at) while served, written with served_at: the report counts and ranks
    # the night's ticket times from this column instead of computing each one.
    ticket_tenths = models.PositiveIntegerField("결제부터 서빙까지(0.1초)", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = verbose_name_plural = "주문 항목"
        constraints = [models.UniqueConstraint(fields=["order", "food"], name="orderitem_one_line_per_food")]
        indexes = [
            # The night report: everything it sums of a line, a range of payment times per food and station,
            # read in group order (no temporary table for the GROUP BY).
            models.Index(
                fields=["food", "station", "paid_at", "quantity", "unit_price", "ticket_tenths"],
                name="orderitem_night_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.food_name} x{self.quantity}"

    @property
    def total_price(self) -> int:
        return self.unit_price * self.quantity


class Refund(models.Model):
    """A refunded quantity of one order line; written by payments.services.order_refund."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds", verbose_name="주문")
    food = models.ForeignKey(Food, on_delete=models.PROTECT, related_name="+", verbose_name="메뉴")
    food_name = models.CharField("메뉴명", max_length=100)
    unit_price = models.PositiveIntegerField("단가(원)")
    quantity = models.PositiveSmallIntegerField("수량")
    amount = models.PositiveIntegerField("환불액(원)")
    # The refunded line's station: the night report splits refunds by station without a join per refund.
    station = models.CharField("준비하는 곳", max_length=10, choices=Station.choices, default=Station.KITCHEN)
    reason = models.CharField("사유", max_length=200, blank=True, default="")
    created_at = models.DateTimeField("환불 시각", auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = verbose_name_plural = "환불"

    def __str__(self) -> str:
        return f"{self.food_name} x{self.quantity} (-{self.amount}원)"


class Cart(models.Model):
    """The table's one shared cart (CONTRACT.md section 10): every phone of the table edits it, each write
    naming the version it saw, so two phones never overwrite each other unknowingly."""

    table = models.OneToOneField(Table, on_delete=models.CASCADE, primary_key=True, related_name="cart")
    items = models.JSONField("담은 메뉴", default=list)  # [{"food_id", "quantity"}] in the order added
    version = models.PositiveIntegerField("버전", default=0)
    # The version after an order last took from it (or a reset emptied it): an order naming an older version
    # was made from items ordered already (its phone had not heard), and is refused rather than sent to the
    # kitchen twice.
    ordered_version = models.PositiveIntegerField("마지막 주문 뒤 버전", default=0)
    updated_at = models.DateTimeField("수정 시각", null=True, blank=True)
    # The last writes' Idempotency-Keys (hashes, with their bodies' fingerprints): a phone whose answer was
    # lost sends its write again and learns it landed, rather than putting its taps on top a second time.
    recent_writes = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "장바구니"

    # True when services.cart_put answered a guest's resent Idempotency-Key: the write had landed before.
    resent = False

    def __str__(self) -> str:
        return f"{self.table} v{self.version}"
