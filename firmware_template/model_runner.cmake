# model_runner for a generated model (included by CMakeLists.txt when TML_MODEL_DIR is set).
file(GLOB TML_RUNTIME_SOURCES CONFIGURE_DEPENDS "${TML_ROOT}/runtime/*.cc")
# The preprocessing core too: with a generated tml_features.h the runner computes the model input from
# raw sensor windows (--raw); --gc-sections drops it otherwise.
file(GLOB TML_PREPROCESS_SOURCES CONFIGURE_DEPENDS "${TML_ROOT}/preprocess/*.cc")
set(runner_sources ${CMAKE_CURRENT_SOURCE_DIR}/app/model_runner.cc "${TML_MODEL_DIR}/model.cc" ${TML_RUNTIME_SOURCES}
    ${TML_PREPROCESS_SOURCES})
# A project build (tml build) also writes tml_features.h: then the raw pipeline, and the board app.
set(TML_WITH_FEATURES OFF)
if(EXISTS "${TML_MODEL_DIR}/tml_features.h")
  set(TML_WITH_FEATURES ON)
  list(APPEND runner_sources ${CMAKE_CURRENT_SOURCE_DIR}/app/model_pipeline.cc)
endif()
set(TML_FW_WARNINGS -Wall -Wextra -Wno-missing-field-initializers)
set(TML_FW_CXX_FLAGS -fno-exceptions -fno-rtti -fno-threadsafe-statics -ffp-contract=off)

if(TML_BOARD STREQUAL "qemu-m4")
  if(NOT CMAKE_CXX_COMPILER MATCHES "arm-none-eabi")
    message(FATAL_ERROR "TML_BOARD=qemu-m4 needs -DCMAKE_TOOLCHAIN_FILE=${TML_ROOT}/cmake/arm-none-eabi.cmake")
  endif()
  set(board_dir "${CMAKE_CURRENT_SOURCE_DIR}/boards/qemu-m4")
  set(linker_script "${board_dir}/mps2_an386.ld")
  add_executable(model_runner ${runner_sources} ${board_dir}/startup.c)
  set_target_properties(model_runner PROPERTIES SUFFIX ".elf")
  # Semihosting stdio (rdimon) for the input/output files; startup.c's Reset_Handler is the entry.
  target_link_options(model_runner PRIVATE --specs=rdimon.specs "-T${linker_script}"
    "-Wl,-Map=${CMAKE_CURRENT_BINARY_DIR}/model_runner.map" -Wl,--gc-sections)
  target_link_libraries(model_runner PRIVATE -lrdimon)
  set_property(TARGET model_runner APPEND PROPERTY LINK_DEPENDS "${linker_script}")
elseif(TML_BOARD STREQUAL "host")
  add_executable(model_runner ${runner_sources})
else()
  message(FATAL_ERROR "TML_BOARD must be qemu-m4 or host for a model build, got '${TML_BOARD}'")
endif()
target_include_directories(model_runner PRIVATE "${TML_ROOT}" "${TML_MODEL_DIR}" "${CMAKE_CURRENT_SOURCE_DIR}")
# -fstack-usage: per-function frames (.su) that deploy/fit_check sums into a stack bound.
target_compile_options(model_runner PRIVATE ${TML_FW_WARNINGS} -fstack-usage $<$<COMPILE_LANGUAGE:CXX>:${TML_FW_CXX_FLAGS}>)

# The board app of a project build: the collection app + CLASSIFY with this model (app/main.cc with
# TML_APP_WITH_MODEL), no heap, no semihosting stdio: what `tml flash` puts on the board.
# qemu-m4 -> tml_app.elf + tml_app.map; host -> tml_app.
if(TML_WITH_FEATURES)
  set(app_sources ${TML_APP_SOURCES} ${CMAKE_CURRENT_SOURCE_DIR}/app/model_classifier.cc
      ${CMAKE_CURRENT_SOURCE_DIR}/app/model_pipeline.cc "${TML_MODEL_DIR}/model.cc" ${TML_RUNTIME_SOURCES}
      ${TML_PREPROCESS_SOURCES})
  if(TML_BOARD STREQUAL "qemu-m4")
    add_executable(tml_app ${app_sources} ${board_dir}/hal_qemu.cc ${board_dir}/startup_bare.c)
    set_target_properties(tml_app PROPERTIES SUFFIX ".elf")
    target_link_options(tml_app PRIVATE --specs=nano.specs --specs=nosys.specs "-T${linker_script}"
      -Wl,--defsym=__heap_size__=0 "-Wl,-Map=${CMAKE_CURRENT_BINARY_DIR}/tml_app.map" -Wl,--gc-sections)
    set_property(TARGET tml_app APPEND PROPERTY LINK_DEPENDS "${linker_script}")
  else()
    add_executable(tml_app ${app_sources} ${CMAKE_CURRENT_SOURCE_DIR}/boards/host/hal_host.cc)
  endif()
  target_compile_definitions(tml_app PRIVATE TML_APP_WITH_MODEL)
  target_include_directories(tml_app PRIVATE "${TML_ROOT}" "${TML_MODEL_DIR}" "${CMAKE_CURRENT_SOURCE_DIR}")
  target_compile_options(tml_app PRIVATE ${TML_FW_WARNINGS} $<$<COMPILE_LANGUAGE:CXX>:${TML_FW_CXX_FLAGS}>)
endif()
