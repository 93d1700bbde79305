app_name = "payments_pages"
urlpatterns = []
