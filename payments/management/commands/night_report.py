from django.core.management.base import BaseCommand, CommandError

from payments.reports import night_report, parse_day


def won(amount: int) -> str:
    return f"{amount:,}원"


class Command(BaseCommand):
    help = "Print the night report (the same figures as GET /api/reports/night/), for closing time over SSH."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="business day YYYY-MM-DD (default: the current one)")

    def handle(self, *args, date=None, **options):
        try:
            day = None if date is None else parse_day(date)
        except ValueError:
            raise CommandError("--date must be YYYY-MM-DD") from None
        report = night_report(day)
        ticket = report["ticket_seconds"]
        out = [
            f"{report['date']} 영업일 ({report['from']} ~ {report['to']})",
            f"  주문 {report['orders']}건   매출 {won(report['gross'])}   환불 {won(report['refunds'])}"
            f"   순매출 {won(report['net'])}   결제 대기 {report['pending_pre_orders']}건",
            "  조리 시간(결제~서빙): "
            + ("-" if ticket["avg"] is None else f"평균 {ticket['avg'] / 60:.1f}분, 90% {ticket['p90'] / 60:.1f}분"),
            "",
            "  시간대별:",
            *(f"    {row['hour'][11:16]}  {row['orders']:>4}건  {won(row['net']):>12}" for row in report["by_hour"]),
            "",
            "  많이 팔린 메뉴:",
            *(f"    {row['name']:<12} {row['quantity']:>4}개  {won(row['net']):>12}" for row in report["top_items"]),
            "",
            "  준비하는 곳별: "
            + ", ".join(f"{row['station']} {row['quantity']}개 {won(row['net'])}" for row in report["by_station"]),
            "  입금 알림: " + ", ".join(f"{k} {v}" for k, v in report["payments"].items()),
        ]
        self.stdout.write("\n".join(out))
