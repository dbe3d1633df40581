import os

from django.core.management.base import BaseCommand

from ordering.models import Table


class Command(BaseCommand):
    help = "Print the URLs of the pages: every table's tab, the kitchen board, the staff pages."

    def add_arguments(self, parser):
        parser.add_argument("--base", default="http://127.0.0.1:8000")

    def handle(self, *args, base, **options):
        base = base.rstrip("/")
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "staff")
        lines = [
            "",
            f"  주방 화면     {base}/kitchen/",
            f"  메뉴 관리     {base}/staff/menu/",
            f"  테이블/QR     {base}/staff/tables/",
            f"  관리자        {base}/admin/",
            f"  API 문서      {base}/api/docs/",
            f"  직원 계정     {username} (비밀번호: DJANGO_SUPERUSER_PASSWORD, 기본 staff1234)",
            "",
            "  테이블 주문 화면:",
        ]
        lines += [f"    {table.name:>4}  {base}/t/{table.pk}/" for table in Table.objects.order_by("name")]
        self.stdout.write("\n".join(lines) + "\n")
