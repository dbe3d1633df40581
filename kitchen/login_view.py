"""The staff login page with the same failed-login limits as the API token (kitchen.logins)."""

from django.contrib.auth import views as auth_views

from kitchen import logins


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"

    def post(self, request, *args, **kwargs):
        username, address = request.POST.get("username", ""), request.META.get("REMOTE_ADDR", "")
        try:
            logins.check(address, username)
        except logins.TooManyAttempts as refused:
            context = self.get_context_data(form=self.get_form_class()(request), too_many_attempts=refused.detail)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        logins.succeeded(form.get_user().get_username())
        return super().form_valid(form)

    def form_invalid(self, form):
        if form.data.get("username") and form.data.get("password"):  # a wrong password, not an empty field
            logins.failed(self.request.META.get("REMOTE_ADDR", ""), form.data["username"])
        return super().form_invalid(form)
