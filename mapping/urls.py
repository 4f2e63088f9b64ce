"""The mapping app's URLs, put together from its sub-packages (prm/urls.py includes this once).

The pages that show what matching found of the partner's accounts (the matching status with its
review count, the review queue) read through the sharing rules, so they live in mapping.sharing;
they keep their names in the namespace "matching".
"""

from django.urls import include, path

from mapping.matching import urls as matching_urls
from mapping.sharing import urls as sharing_urls

urlpatterns = [
    path("api/", include("mapping.lists.api_urls")),
    path("api/", include("mapping.matching.api_urls")),
    path("api/", include("mapping.sharing.api_urls")),
    path("lists/", include("mapping.lists.urls")),
    path("", include((matching_urls.urlpatterns + sharing_urls.matching_urlpatterns, "matching"))),
    path("", include(sharing_urls)),
]
