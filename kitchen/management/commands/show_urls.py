import io
import os
import socket

import segno
from django.conf import settings
from django.core.management.base import BaseCommand

from kitchen.management.commands.ensure_staff import PASSWORD_FILE
from ordering.models import Table


def lan_address() -> str:
    """This machine's address on the local network: the source address of a route outwards (a UDP
    'connect' sends nothing). Falls back to loopback on a machine with no network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.168.0.1", 9))
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def base_url(host: str, port: int) -> str:
    """The address phones use: PUBLIC_BASE_URL, else the LAN address when serving every interface."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL
    if host in {"0.0.0.0", "::", ""}:
        host = lan_address()
    return f"http://{host}:{port}"


class Command(BaseCommand):
    help = "Print the URLs of the pages (every table's tab, the kitchen board, the staff pages) and a QR of one table."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-qr", action="store_true")

    def handle(self, *args, host, port, no_qr, **options):
        base = base_url(host, port)
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "staff")
        if os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            password = "DJANGO_SUPERUSER_PASSWORD"
        elif PASSWORD_FILE.exists():
            password = PASSWORD_FILE.read_text().strip()
        else:
            password = f"처음 만들 때 출력됨 (바꾸기: uv run python manage.py changepassword {username})"
        lines = [
            "",
            f"  주방 화면     {base}/kitchen/",
            f"  바 화면       {base}/kitchen/?station=bar",
            f"  메뉴 관리     {base}/staff/menu/",
            f"  테이블/QR     {base}/staff/tables/",
            f"  관리자        {base}/admin/",
            f"  API 문서      {base}/api/docs/",
            f"  직원 계정     {username} / {password}",
        ]
        if base.startswith(("http://127.", "http://localhost")):
            lines.append("  휴대폰으로 접속하려면: make dev HOST=0.0.0.0 (같은 Wi-Fi에서 아래 주소로)")
        if not settings.BANK_ACCOUNT_NO:
            lines.append("  경고: BANK_ACCOUNT_NO가 비어 있어 선결제 송금 안내에 계좌번호가 없습니다.")
        lines += ["", "  테이블 주문 화면:"]
        tables = list(Table.objects.order_by("name"))
        lines += [f"    {table.name:>4}  {base}/t/{table.pk}/" for table in tables]
        self.stdout.write("\n".join(lines) + "\n")
        if tables and not no_qr:
            url = f"{base}/t/{tables[0].pk}/"
            self.stdout.write(f"\n  {tables[0].name} 테이블 QR ({url}):\n")
            drawn = io.StringIO()
            segno.make(url, error="m").terminal(out=drawn, compact=True)
            self.stdout.write(drawn.getvalue(), ending="")
        self.stdout.write(f"\n  준비됨: {base}/kitchen/ 에서 시작하세요.\n")
