import uuid

from django.db import models
from django.db.models import Q


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


class Food(models.Model):
    name = models.CharField("이름", max_length=100)
    price = models.PositiveIntegerField("가격(원)")
    category = models.CharField("분류", max_length=10, choices=Category.choices, default=Category.MENU)
    description = models.TextField("설명", blank=True, default="")
    image = models.CharField("이미지 URL", max_length=500, blank=True, default="")
    sold_out = models.BooleanField("품절", default=False)
    stock = models.PositiveIntegerField("남은 수량", null=True, blank=True, help_text="비우면 수량을 세지 않습니다.")
    display_order = models.PositiveIntegerField("표시 순서", default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "display_order", "id"]
        verbose_name = verbose_name_plural = "음식"

    def __str__(self) -> str:
        return self.name


class Table(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField("테이블명", max_length=50, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "테이블"

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_number = models.CharField("주문번호", max_length=22, unique=True)
    table = models.ForeignKey(Table, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=12, choices=OrderStatus.choices, default=OrderStatus.COMPLETED)
    kitchen_status = models.CharField(max_length=10, choices=KitchenStatus.choices, default=KitchenStatus.QUEUED)
    payer_name = models.CharField("입금자명", max_length=20, blank=True, default="")
    total_amount = models.PositiveIntegerField("합계(원)")
    refunded_amount = models.PositiveIntegerField("환불액(원)", default=0)
    order_date = models.DateTimeField(auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True, help_text="테이블 초기화로 탭에서 빠진 시각")
    # "<payer_name>:<total_amount>" while the pre-order awaits payment, else NULL. Unique, so that two
    # pending pre-orders never share a payer name and amount and every deposit has one match.
    pending_match_key = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)
    # Discord outbox: claimed by a conditional UPDATE (lease), marked after a successful send.
    discord_notified = models.BooleanField(default=False)
    discord_attempts = models.PositiveSmallIntegerField(default=0)
    discord_next_attempt_at = models.DateTimeField(null=True, blank=True)

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

    # The lines of an order this process has just written (services.order_create_locked): it is rendered
    # from them instead of reading them back. Orders read from the database prefetch theirs (with_lines).
    written_lines: list | None = None

    def __str__(self) -> str:
        return self.order_number

    @property
    def lines(self):
        return self.written_lines if self.written_lines is not None else self.items.all()

    @property
    def refund_lines(self):
        return [] if self.written_lines is not None else self.refunds.all()  # a new order has none


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    food = models.ForeignKey(Food, on_delete=models.PROTECT, related_name="+")
    # Frozen at order time: later menu edits never alter an order.
    food_name = models.CharField(max_length=100)
    unit_price = models.PositiveIntegerField()
    quantity = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["order", "food"], name="orderitem_one_line_per_food")]

    def __str__(self) -> str:
        return f"{self.food_name} x{self.quantity}"

    @property
    def total_price(self) -> int:
        return self.unit_price * self.quantity


class Refund(models.Model):
    """A refunded quantity of one order line; written by payments.services.order_refund."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    food = models.ForeignKey(Food, on_delete=models.PROTECT, related_name="+")
    food_name = models.CharField(max_length=100)
    unit_price = models.PositiveIntegerField()
    quantity = models.PositiveSmallIntegerField()
    amount = models.PositiveIntegerField()
    reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = verbose_name_plural = "환불"

    def __str__(self) -> str:
        return f"{self.food_name} x{self.quantity} (-{self.amount}원)"
