from django.core.management.base import BaseCommand
from django.db import transaction

from ordering.models import Category, Food

# (name, price, category, description, stock): stock None = not counted
MENU = [
    ("김치전", 12000, Category.MENU, "바삭하게 부친 묵은지 김치전", None),
    ("해물파전", 15000, Category.MENU, "오징어와 새우가 듬뿍 들어간 파전", None),
    ("떡볶이", 9000, Category.MENU, "달콤매콤 국물 떡볶이", None),
    ("제육볶음", 14000, Category.MENU, "불맛 가득 돼지고기 볶음", 30),
    ("닭강정", 16000, Category.MENU, "바삭한 순살 닭강정", 25),
    ("오뎅탕", 13000, Category.MENU, "뜨끈한 어묵탕", None),
    ("소시지 야채볶음", 11000, Category.MENU, "케첩 소스 소야", None),
    ("골뱅이무침", 17000, Category.MENU, "소면과 함께 나오는 새콤한 골뱅이", 15),
    ("먹태구이", 15000, Category.MENU, "청양 마요 소스와 함께", 20),
    ("주먹밥", 5000, Category.MENU, "김가루 참치 주먹밥", 40),
    ("소주", 5000, Category.DRINKS, "참이슬 / 처음처럼", None),
    ("맥주", 5000, Category.DRINKS, "카스 500ml", None),
    ("막걸리", 6000, Category.DRINKS, "지평 생막걸리", 24),
    ("콜라", 2000, Category.DRINKS, "355ml 캔", None),
    ("사이다", 2000, Category.DRINKS, "355ml 캔", None),
    ("생수", 1000, Category.DRINKS, "500ml", None),
]


class Command(BaseCommand):
    help = "Load the pub's menu (idempotent: existing items keep their live stock, sold-out and price)."

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        for order, (name, price, category, description, stock) in enumerate(MENU, start=1):
            _, was_created = Food.objects.get_or_create(
                name=name,
                category=category,
                defaults={"price": price, "description": description, "stock": stock, "display_order": order},
            )
            created += was_created
        self.stdout.write(self.style.SUCCESS(f"menu: {created} created, {len(MENU) - created} already there"))
