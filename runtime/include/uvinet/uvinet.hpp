// Everything an application needs, in one include.
#pragma once

#include "uvinet/async.hpp"
#include "uvinet/error.hpp"
#include "uvinet/handle.hpp"
#include "uvinet/http.hpp"
#include "uvinet/http_date.hpp"
#include "uvinet/module.hpp"
#include "uvinet/options.hpp"
#include "uvinet/result.hpp"
#include "uvinet/sequence.hpp"
#include "uvinet/status.hpp"
#include "uvinet/stream.hpp"
#include "uvinet/task.hpp"
#include "uvinet/url.hpp"
