#ifndef SENTRY_CCURL_H
#define SENTRY_CCURL_H
#include <curl/curl.h>

// curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot call.
// These wrappers fix the argument type for each kind of option.

typedef size_t (*sentry_curl_data_callback)(char *buffer, size_t size, size_t count, void *userdata);

CURLcode sentry_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode sentry_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode sentry_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode sentry_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode sentry_curl_easy_setopt_callback(CURL *handle, CURLoption option, sentry_curl_data_callback value);
CURLcode sentry_curl_easy_setopt_off_t(CURL *handle, CURLoption option, long long value);

CURLcode sentry_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode sentry_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);

CURLMcode sentry_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value);

// CURLMsg keeps the result in a union; Swift imports it awkwardly, so read it here.
CURLcode sentry_curl_msg_result(const CURLMsg *message);

#endif
