{
  # The single build truth for the addon. The source list lives in native/sources.txt so that the
  # cmake-js sanitizer/fuzzing build (native/CMakeLists.txt) compiles exactly the same files.
  "targets": [
    {
      "target_name": "lvskit",
      "sources": ["<!@(node -e \"process.stdout.write(require('fs').readFileSync('native/sources.txt','utf8').split(/\\n/).map(s=>s.trim()).filter(s=>s&&!s.startsWith('#')).map(s=>'native/'+s).join(' '))\")"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/src"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: on an environment that is being torn down (a worker
      # exiting mid-call) napi_throw fails; without this node-addon-api throws a C++ exception out of
      # the callback wrapper and the whole process aborts.
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_ADDON_API_ENABLE_TYPE_CHECK_ON_AS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags": ["-O3"]
    }
  ]
}
