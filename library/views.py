from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from core.http import AuthenticatedRequest
from library.selectors import access_document


@login_required
def document_detail(request: AuthenticatedRequest, document_id: int) -> HttpResponse:
    document = access_document(request.user, document_id)
    return render(request, "library/document_detail.html", {"document": document})
