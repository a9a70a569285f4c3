// Native surface of the rtnetlink families (native/src/binding/{route,link,addr,...}_binding.cc).
// Each family adds its own interface here and to RtnlNative.
export interface RtnlNative {}
